import {
  AppError,
  Pairing,
  PairingPlaybackReply,
  Problem,
  type AccessClaims,
  type PairingPlaybackBody,
} from '@sky/contracts';

/** The api's Q&A pairing, asked as a household (the account that paired a box). */
export interface QaApi {
  createPairing(household: AccessClaims, lessonId: string): Promise<Pairing>;
  reportPlayback(
    household: AccessClaims,
    code: string,
    body: PairingPlaybackBody,
  ): Promise<PairingPlaybackReply>;
}

/**
 * The api over HTTP. The gateway shares the api's token secret; for each call it signs a token of the
 * household's own identity that lives a minute and never leaves this process, so a box gets no api
 * token and can do nothing through the gateway but these two calls. The api's refusals come back as
 * the same AppError (code and reason); an api that does not answer is DEPENDENCY_DOWN.
 */
export function apiQaClient(apiUrl: string, sign: (claims: Omit<AccessClaims, 'typ'>) => string): QaApi {
  const call = async (household: AccessClaims, method: 'POST' | 'PUT', path: string, body: unknown) => {
    const { typ: _typ, ...claims } = household;
    let res: Response;
    try {
      res = await fetch(`${apiUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${sign(claims)}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(5000),
      });
    } catch {
      throw new AppError('DEPENDENCY_DOWN', 'the Q&A service is not answering; try again shortly');
    }
    if (res.ok) return res;
    const problem = Problem.safeParse(await res.json().catch(() => null));
    // the api refusing the gateway's own token is the operator's problem (JWT_SECRET), not the box's
    if (problem.success && problem.data.code !== 'UNAUTHENTICATED' && problem.data.code !== 'TOKEN_EXPIRED') {
      throw new AppError(problem.data.code, problem.data.detail);
    }
    throw new AppError('DEPENDENCY_DOWN', `the Q&A service answered ${res.status}`);
  };
  return {
    async createPairing(household, lessonId) {
      const res = await call(household, 'POST', '/api/qa/pairing', { lessonId });
      return Pairing.parse(await res.json());
    },
    async reportPlayback(household, code, body) {
      const res = await call(household, 'PUT', `/api/qa/pairing/${encodeURIComponent(code)}/playback`, body);
      return PairingPlaybackReply.parse(await res.json());
    },
  };
}
