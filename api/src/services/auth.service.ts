import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import {
  AppError,
  ObjectIdString,
  PASSWORD_RULES,
  passwordFieldError,
  passwordRuleBroken,
  type AccessClaims,
  type ChangePasswordBody,
  type LoginBody,
  type NewPasswordLoginBody,
  type TokenPair,
} from '@sky/contracts';
import type { EndedSessions, LoginThrottle } from '../adapters/auth.redis.js';
import type { Passwords } from '../adapters/password.js';
import { familyOf, type SessionDoc, type SessionRepository } from '../adapters/sessions.repository.js';
import type { TokenIssuer } from '../adapters/tokens.js';
import { toPublicUser, type UserDoc, type UserRepository } from '../adapters/users.repository.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest();

// Verifying against a real hash when the user does not exist keeps response times equal.
let dummyHash: Promise<string> | undefined;

/** Too many wrong passwords: the edge answers 429 with this Retry-After. */
export class LoginThrottled extends AppError {
  constructor(readonly retryAfterSec: number) {
    super('RATE_LIMITED', `too many failed sign-ins; try again in ${retryAfterSec} s`);
  }
}

/** Sign-ins that just ended, for whoever holds live connections of theirs (sockets). */
export interface SessionsEnded {
  sessionIds: readonly string[];
  /** Set when every sign-in of this user ended (disable, delete, sign out everywhere). */
  userId?: string;
}

/**
 * Sign-in, refresh-token rotation and ending sessions. Each sign-in is a family of refresh tokens
 * (one live, the rotated ones kept until they expire); its id travels in every access token as `sid`.
 * Presenting a rotated token again means it was copied: the whole family ends, the copier's newer tokens
 * with it, and its access tokens are refused through a Redis set that every replica reads.
 */
export class AuthService {
  private readonly listeners = new Set<(e: SessionsEnded) => void>();

  constructor(
    private readonly users: UserRepository,
    private readonly sessions: SessionRepository,
    private readonly ended: EndedSessions,
    private readonly throttle: LoginThrottle,
    private readonly tokens: TokenIssuer,
    private readonly passwords: Passwords,
    private readonly refreshTtlSec: number,
  ) {}

  get refreshTokenTtlSec(): number {
    return this.refreshTtlSec;
  }

  onSessionsEnded(fn: (e: SessionsEnded) => void): void {
    this.listeners.add(fn);
  }

  /** `address`: the client's address, for throttling wrong passwords per username + address and per address. */
  async login(body: LoginBody, address: string): Promise<TokenPair> {
    const user = await this.checkCredentials(body.username, body.password, address);
    if (user.mustChangePassword)
      throw new AppError(
        'PASSWORD_CHANGE_REQUIRED',
        'this password was set by an admin: sign in with it once more and choose a new one',
      );
    return this.issue(user, randomUUID());
  }

  /**
   * Sign in and set a new password at once: how a temporary password an admin set is used (it never
   * gives a session itself). Any other sign-in of the account ends, as with every password change.
   */
  async loginWithNewPassword(body: NewPasswordLoginBody, address: string): Promise<TokenPair> {
    const user = await this.checkCredentials(body.username, body.password, address);
    assertNewPassword(body.newPassword, user.username, body.password);
    const changed = await this.users.replacePassword(
      user.id,
      user.passwordHash,
      await this.passwords.hash(body.newPassword),
    );
    if (!changed) throw changedMeanwhile();
    await this.endAllSessions(user.id);
    return this.issue(changed, randomUUID());
  }

  /**
   * A signed-in user changes their own password, showing the current one (a wrong one counts as a wrong
   * sign-in). Every other sign-in of theirs ends; the one asking stays.
   */
  async changePassword(actor: AccessClaims, body: ChangePasswordBody, address: string): Promise<void> {
    const user = await this.users.findById(actor.sub);
    if (!user) throw new AppError('NOT_FOUND', 'the account no longer exists');
    const retry = await this.throttle.retryAfterSec(user.username, address);
    if (retry !== null) throw new LoginThrottled(retry);
    if (!(await this.passwords.verify(user.passwordHash, body.currentPassword))) {
      await this.throttle.failed(user.username, address);
      throw new AppError('VALIDATION_FAILED', 'the current password is wrong', {
        errors: [
          { path: 'body.currentPassword', message: 'is not your current password', rule: 'incorrect' },
        ],
      });
    }
    await this.throttle.succeeded(user.username, address);
    assertNewPassword(body.newPassword, user.username, body.currentPassword);
    const changed = await this.users.replacePassword(
      user.id,
      user.passwordHash,
      await this.passwords.hash(body.newPassword),
    );
    if (!changed) throw changedMeanwhile();
    if (actor.sid === undefined) await this.endAllSessions(user.id);
    else await this.endOtherSessions(user.id, actor.sid);
  }

  /** Rotates the refresh token: each one works once; presenting a used one ends its whole sign-in. */
  async refresh(refreshToken: string): Promise<TokenPair> {
    const session = await this.check(refreshToken);
    // A token written by a rotation that raced the family's end (on another replica) ends with it.
    const live = !(await this.ended.isEnded(familyOf(session)));
    if (live && !session.usedAt && (await this.sessions.markUsed(session._id))) {
      const user = await this.users.findById(session.userId);
      if (user && !user.disabled && !user.mustChangePassword) return this.issue(user, familyOf(session));
      await this.endFamily(familyOf(session));
      throw new AppError('UNAUTHENTICATED', 'the account is disabled or no longer exists');
    }
    await this.endFamily(familyOf(session));
    throw new AppError(
      'UNAUTHENTICATED',
      'this refresh token was already used: every token of this sign-in has ended; sign in again',
    );
  }

  /** Ends the sign-in the refresh token belongs to, once its secret is shown to be right. */
  async logout(refreshToken: string): Promise<void> {
    await this.endFamily(familyOf(await this.check(refreshToken)));
  }

  /** Sign out everywhere: every sign-in of the user ends, their access tokens and sockets with them. */
  async endAllSessions(userId: string): Promise<void> {
    const ids = await this.sessions.deleteForUser(userId);
    await this.ended.end(ids);
    this.emit({ sessionIds: ids, userId });
  }

  /** Every sign-in of the user but `keepSessionId` ends (a password change: the device making it stays). */
  async endOtherSessions(userId: string, keepSessionId: string): Promise<void> {
    const ids = await this.sessions.deleteForUserExcept(userId, keepSessionId);
    await this.ended.end(ids);
    this.emit({ sessionIds: ids });
  }

  /** Signature, expiry and shape only, without I/O: for callers that merely read a role. */
  verifyAccess(token: string): AccessClaims {
    const claims = this.tokens.verify(token);
    if (!ObjectIdString.safeParse(claims.sub).success)
      throw new AppError('UNAUTHENTICATED', 'this token does not name a user; sign in again');
    return claims;
  }

  /** The access check for requests and sockets: a valid token of a sign-in that has not ended. */
  async authenticate(token: string): Promise<AccessClaims> {
    const claims = this.verifyAccess(token);
    await this.assertLive(claims);
    return claims;
  }

  async assertLive(claims: AccessClaims): Promise<void> {
    if (claims.sid !== undefined && (await this.ended.isEnded(claims.sid)))
      throw new AppError('UNAUTHENTICATED', 'this session has ended; sign in again');
  }

  /** The account, when the password is right and the account may sign in; counts wrong passwords. */
  private async checkCredentials(
    username: string,
    password: string,
    address: string,
  ): Promise<UserDoc & { id: string }> {
    const retry = await this.throttle.retryAfterSec(username, address);
    if (retry !== null) throw new LoginThrottled(retry);
    const user = await this.users.findByUsername(username);
    dummyHash ??= this.passwords.hash('not-a-real-password');
    const ok = await this.passwords.verify(user?.passwordHash ?? (await dummyHash), password);
    if (!user || !ok) {
      await this.throttle.failed(username, address);
      throw new AppError('INVALID_CREDENTIALS', 'wrong username or password');
    }
    await this.throttle.succeeded(username, address);
    if (user.disabled) throw new AppError('FORBIDDEN', 'this account is disabled; ask your school admin');
    const expiresAt = user.mustChangePassword ? user.temporaryPasswordExpiresAt : undefined;
    if (expiresAt && expiresAt.getTime() <= Date.now())
      throw new AppError(
        'TEMPORARY_PASSWORD_EXPIRED',
        `this temporary password expired at ${expiresAt.toISOString()}; ask your school admin for a new one`,
      );
    return user;
  }

  /** The stored token a refresh token names, if its secret matches and it has not expired. */
  private async check(refreshToken: string): Promise<SessionDoc> {
    const [id, secret, ...rest] = refreshToken.split('.');
    const session = id && secret && rest.length === 0 ? await this.sessions.find(id) : null;
    const given = sha256(secret ?? '');
    const stored = session ? Buffer.from(session.tokenHash, 'hex') : given;
    if (
      !session ||
      stored.length !== given.length ||
      !timingSafeEqual(stored, given) ||
      session.expiresAt < new Date()
    )
      throw new AppError('UNAUTHENTICATED', 'the refresh token is not valid or has expired');
    return session;
  }

  private async endFamily(familyId: string): Promise<void> {
    await this.sessions.deleteFamily(familyId);
    await this.ended.end([familyId]);
    this.emit({ sessionIds: [familyId] });
  }

  private emit(e: SessionsEnded): void {
    for (const fn of this.listeners) fn(e);
  }

  private async issue(user: UserDoc & { id: string }, familyId: string): Promise<TokenPair> {
    const id = randomUUID();
    const secret = randomBytes(32).toString('base64url');
    await this.sessions.create({
      _id: id,
      familyId,
      userId: user.id,
      tokenHash: sha256(secret).toString('hex'),
      expiresAt: new Date(Date.now() + this.refreshTtlSec * 1000),
    });
    return {
      accessToken: this.tokens.sign({
        sub: user.id,
        role: user.role,
        sid: familyId,
        ...(user.grade ? { grade: user.grade } : {}),
      }),
      refreshToken: `${id}.${secret}`,
      expiresIn: this.tokens.ttlSec,
      user: toPublicUser(user),
    };
  }
}

/** The rules a new password must meet beyond its shape: not the username, not the password it replaces. */
function assertNewPassword(password: string, username: string, current: string): void {
  const broken = passwordRuleBroken(password, { username, current });
  if (broken)
    throw new AppError('VALIDATION_FAILED', `the new password is refused: ${PASSWORD_RULES[broken]}`, {
      errors: [passwordFieldError('body.newPassword', broken)],
    });
}

/** Two changes raced with the same old password; the other one won. */
function changedMeanwhile(): AppError {
  return new AppError('CONFLICT', 'the password was changed meanwhile; sign in with the new one');
}
