// JWT access tokens (HS256), for every service that signs or checks them: @sky/contracts/tokens.
import { AccessClaims } from './auth.js';
import { AppError } from './problem.js';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createSigner, createVerifier, TokenError } from 'fast-jwt';

export interface TokenIssuer {
  sign(claims: Omit<AccessClaims, 'typ'>): string;
  verify(token: string): AccessClaims;
  readonly ttlSec: number;
}

/** HS256 access tokens; every service that shares the secret can verify them. */
export function createTokenIssuer(secret: string, ttlSec: number): TokenIssuer {
  const signer = createSigner({ key: secret, algorithm: 'HS256', expiresIn: ttlSec * 1000 });
  const verifier = createVerifier({ key: secret, algorithms: ['HS256'] });
  return {
    ttlSec,
    sign: (claims) => signer({ ...claims, typ: 'access' }),
    verify(token) {
      let payload: unknown;
      try {
        payload = verifier(token);
      } catch (err) {
        if (err instanceof TokenError && err.code === TokenError.codes.expired) {
          throw new AppError('TOKEN_EXPIRED', 'the access token has expired; refresh it');
        }
        throw new AppError('UNAUTHENTICATED', 'the access token is not valid');
      }
      const claims = AccessClaims.safeParse(payload);
      if (!claims.success) throw new AppError('UNAUTHENTICATED', 'the access token is not valid');
      return claims.data;
    },
  };
}

/**
 * Signed viewer ids for viewing beacons: `v1` + 22 characters naming the viewer + 22 characters of
 * HMAC-SHA256 (keyed from the services' JWT secret), 46 characters of A-Z a-z 0-9 _ - (a BeaconId). The
 * api issues them (POST /api/analytics/viewer) and the TV gateway for its paired boxes; the ingest counts
 * only events whose viewer id verifies, so no client can invent viewers.
 */
export interface ViewerIds {
  /** The viewer id of a known subject (`user:<id>`, `device:<id>`): the same id every time. */
  of(subject: string): string;
  /** A fresh anonymous viewer id. */
  anonymous(): string;
  /** Whether `id` was issued with this secret. */
  verify(id: string): boolean;
}

const VIEWER_VERSION = 'v1';

export function createViewerIds(secret: string): ViewerIds {
  // A key of its own, so a viewer id's MAC can never be mistaken for anything else signed with the secret.
  const key = createHmac('sha256', secret).update('sky-classroom/analytics-viewer/v1').digest();
  const mac = (body: string) =>
    createHmac('sha256', key).update(body).digest().subarray(0, 16).toString('base64url');
  const sign = (name: string) => `${VIEWER_VERSION}${name}${mac(VIEWER_VERSION + name)}`;
  return {
    of: (subject) =>
      sign(
        createHmac('sha256', key).update(`subject:${subject}`).digest().subarray(0, 16).toString('base64url'),
      ),
    anonymous: () => sign(randomBytes(16).toString('base64url')),
    verify(id) {
      if (id.length !== 46 || !id.startsWith(VIEWER_VERSION)) return false;
      const given = Buffer.from(id.slice(24));
      const want = Buffer.from(mac(id.slice(0, 24)));
      return given.length === want.length && timingSafeEqual(given, want);
    },
  };
}

/**
 * One-use tickets for a browser to open another service's page that it cannot send a header to (the
 * transcoder's queue UI): a JWT of its own type (`typ: 'ticket'`, never an access token anywhere), for one
 * purpose, valid for seconds, with an id the receiving service accepts once. A URL that carries one is
 * harmless once used or expired, unlike an access token in a URL (browser history, proxy and access logs).
 */
export interface TicketIssuer {
  sign(claims: { sub: string; role: AccessClaims['role']; use: string }): string;
  /** The ticket's subject, role and id, if it is valid for `use`; throws UNAUTHENTICATED otherwise. */
  verify(ticket: string, use: string): { sub: string; role: AccessClaims['role']; jti: string; exp: number };
}

export const TICKET_TTL_SEC = 30;

export function createTicketIssuer(secret: string, ttlSec = TICKET_TTL_SEC): TicketIssuer {
  const signer = createSigner({ key: secret, algorithm: 'HS256', expiresIn: ttlSec * 1000 });
  const verifier = createVerifier({ key: secret, algorithms: ['HS256'] });
  return {
    sign: (claims) => signer({ ...claims, typ: 'ticket', jti: randomBytes(12).toString('base64url') }),
    verify(ticket, use) {
      let p: Record<string, unknown>;
      try {
        p = verifier(ticket) as Record<string, unknown>;
      } catch {
        throw new AppError('UNAUTHENTICATED', 'the ticket is not valid or has expired; open the page again');
      }
      const role = AccessClaims.shape.role.safeParse(p['role']);
      if (p['typ'] !== 'ticket' || p['use'] !== use || typeof p['sub'] !== 'string' || !role.success)
        throw new AppError('UNAUTHENTICATED', 'the ticket is not valid or has expired; open the page again');
      return { sub: p['sub'], role: role.data, jti: String(p['jti']), exp: Number(p['exp']) };
    },
  };
}
