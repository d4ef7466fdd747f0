import cookie from '@fastify/cookie';
import {
  AppError,
  ChangePasswordBody,
  LoginBody,
  NewPasswordLoginBody,
  RefreshBody,
  SignInInfo,
  UpdateMeBody,
  type AccessGrant,
  type TokenPair,
} from '@sky/contracts';
import { actorOf } from '@sky/contracts/http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { LoginThrottled, type AuthService } from '../services/auth.service.js';
import type { UserService } from '../services/users.service.js';

/** The web client's refresh token: httpOnly (no script reads it), sent only to /api/auth/*. */
export const REFRESH_COOKIE = 'sky_refresh';
const COOKIE_PATH = '/api/auth';

export function authRoutes(
  auth: AuthService,
  users: UserService,
  site: { demo: boolean },
): FastifyPluginAsyncZod {
  return async (app) => {
    await app.register(cookie);

    app.get(
      '/api/public/sign-in',
      { config: { access: 'public' }, schema: { response: { 200: SignInInfo } } },
      (): SignInInfo => ({ demo: site.demo }),
    );

    const setRefreshCookie = (req: FastifyRequest, reply: FastifyReply, token: string) =>
      reply.setCookie(REFRESH_COOKIE, token, {
        httpOnly: true,
        sameSite: 'strict',
        // req.protocol believes X-Forwarded-Proto only from trusted proxies (TRUST_PROXY).
        secure: req.protocol === 'https',
        path: COOKIE_PATH,
        maxAge: auth.refreshTokenTtlSec,
      });
    const clearRefreshCookie = (reply: FastifyReply) =>
      reply.clearCookie(REFRESH_COOKIE, { path: COOKIE_PATH, httpOnly: true, sameSite: 'strict' });
    /** The answer for a cookie session: everything but the refresh token, which only the cookie carries. */
    const grant = ({ refreshToken: _inCookie, ...rest }: TokenPair): AccessGrant => rest;
    /** The refresh token from the body (devices, scripts) or else the cookie (the web client). */
    const presented = (req: FastifyRequest<{ Body: RefreshBody }>) => {
      const fromBody = req.body.refreshToken;
      const token = fromBody ?? req.cookies[REFRESH_COOKIE];
      if (!token)
        throw new AppError(
          'UNAUTHENTICATED',
          `no refresh token: send refreshToken or the ${REFRESH_COOKIE} cookie`,
        );
      return { token, fromCookie: fromBody === undefined };
    };

    /** A sign-in's answer: the pair (devices, scripts) or the grant with the refresh token in the cookie. */
    const signedIn = async (
      req: FastifyRequest<{ Body: LoginBody }>,
      reply: FastifyReply,
      signIn: () => Promise<TokenPair>,
    ) => {
      let pair: TokenPair;
      try {
        pair = await signIn();
      } catch (err) {
        if (err instanceof LoginThrottled) void reply.header('retry-after', String(err.retryAfterSec));
        throw err;
      }
      if (req.body.refreshTokenIn !== 'cookie') return pair;
      setRefreshCookie(req, reply, pair.refreshToken);
      return grant(pair);
    };

    app.post('/api/auth/login', { config: { access: 'public' }, schema: { body: LoginBody } }, (req, reply) =>
      signedIn(req, reply, () => auth.login(req.body, req.ip)),
    );
    app.post(
      '/api/auth/login/new-password',
      { config: { access: 'public' }, schema: { body: NewPasswordLoginBody } },
      (req, reply) => signedIn(req, reply, () => auth.loginWithNewPassword(req.body, req.ip)),
    );
    app.post(
      '/api/auth/refresh',
      { config: { access: 'public' }, schema: { body: RefreshBody } },
      async (req, reply) => {
        const { token, fromCookie } = presented(req);
        let pair: TokenPair;
        try {
          pair = await auth.refresh(token);
        } catch (err) {
          if (fromCookie) clearRefreshCookie(reply);
          throw err;
        }
        if (!fromCookie) return pair;
        setRefreshCookie(req, reply, pair.refreshToken);
        return grant(pair);
      },
    );
    app.post(
      '/api/auth/logout',
      { config: { access: 'public' }, schema: { body: RefreshBody } },
      async (req, reply) => {
        const { token, fromCookie } = presented(req);
        if (fromCookie) clearRefreshCookie(reply);
        await auth.logout(token);
        return reply.code(204).send();
      },
    );
    // Sign out everywhere, for oneself: every sign-in of this user ends, this one included.
    app.post('/api/auth/logout-all', { config: { access: 'authenticated' } }, async (req, reply) => {
      await auth.endAllSessions(actorOf(req).sub);
      clearRefreshCookie(reply);
      return reply.code(204).send();
    });
    // A password change: the other sign-ins end, this one (its cookie and tokens) stays.
    app.post(
      '/api/auth/password',
      { config: { access: 'authenticated' }, schema: { body: ChangePasswordBody } },
      async (req, reply) => {
        try {
          await auth.changePassword(actorOf(req), req.body, req.ip);
        } catch (err) {
          if (err instanceof LoginThrottled) void reply.header('retry-after', String(err.retryAfterSec));
          throw err;
        }
        return reply.code(204).send();
      },
    );
    app.get('/api/me', { config: { access: 'authenticated' } }, (req) => users.me(actorOf(req).sub));
    // A family's child's grade (students' grades are the school's): the answer is the account as it is now.
    app.patch('/api/me', { config: { access: ['family'] }, schema: { body: UpdateMeBody } }, (req) =>
      users.setGrade(actorOf(req), req.body),
    );
  };
}
