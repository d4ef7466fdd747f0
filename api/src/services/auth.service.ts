import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { AppError, ObjectIdString, type AccessClaims, type LoginBody, type TokenPair } from '@sky/contracts';
import type { Passwords } from '../adapters/password.js';
import type { SessionRepository } from '../adapters/sessions.repository.js';
import type { TokenIssuer } from '../adapters/tokens.js';
import { toPublicUser, type UserDoc, type UserRepository } from '../adapters/users.repository.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

// Verifying against a real hash when the user does not exist keeps response times equal.
let dummyHash: Promise<string> | undefined;

export class AuthService {
  constructor(
    private readonly users: UserRepository,
    private readonly sessions: SessionRepository,
    private readonly tokens: TokenIssuer,
    private readonly passwords: Passwords,
    private readonly refreshTtlSec: number,
  ) {}

  async login(body: LoginBody): Promise<TokenPair> {
    const user = await this.users.findByUsername(body.username);
    dummyHash ??= this.passwords.hash('not-a-real-password');
    const ok = await this.passwords.verify(user?.passwordHash ?? (await dummyHash), body.password);
    if (!user || !ok) throw new AppError('INVALID_CREDENTIALS', 'wrong username or password');
    return this.issue(user);
  }

  /** Rotates the refresh token: each one works once; a reused token is refused. */
  async refresh(refreshToken: string): Promise<TokenPair> {
    const [id, secret] = refreshToken.split('.');
    if (!id || !secret) throw new AppError('UNAUTHENTICATED', 'the refresh token is not valid');
    const session = await this.sessions.take(id);
    if (!session || session.tokenHash !== sha256(secret) || session.expiresAt < new Date()) {
      throw new AppError('UNAUTHENTICATED', 'the refresh token is not valid or was already used');
    }
    const user = await this.users.findById(session.userId);
    if (!user) throw new AppError('UNAUTHENTICATED', 'the account no longer exists');
    return this.issue(user);
  }

  async logout(refreshToken: string): Promise<void> {
    const [id] = refreshToken.split('.');
    if (id) await this.sessions.take(id);
  }

  /** Every api user is a document: a token naming anything else was not issued by this api for a user. */
  verifyAccess(token: string): AccessClaims {
    const claims = this.tokens.verify(token);
    if (!ObjectIdString.safeParse(claims.sub).success)
      throw new AppError('UNAUTHENTICATED', 'this token does not name a user; sign in again');
    return claims;
  }

  private async issue(user: UserDoc & { id: string }): Promise<TokenPair> {
    const id = randomUUID();
    const secret = randomBytes(32).toString('base64url');
    await this.sessions.create({
      _id: id,
      userId: user.id,
      tokenHash: sha256(secret),
      expiresAt: new Date(Date.now() + this.refreshTtlSec * 1000),
    });
    return {
      accessToken: this.tokens.sign({
        sub: user.id,
        role: user.role,
        ...(user.grade ? { grade: user.grade } : {}),
      }),
      refreshToken: `${id}.${secret}`,
      expiresIn: this.tokens.ttlSec,
      user: toPublicUser(user),
    };
  }
}
