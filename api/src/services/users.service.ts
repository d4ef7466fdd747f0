import { randomInt } from 'node:crypto';
import {
  AppError,
  type AccessClaims,
  type CreateUserBody,
  type PasswordReset,
  type PublicUser,
  type UserList,
  type UserListQuery,
} from '@sky/contracts';
import type { Passwords } from '../adapters/password.js';
import { toPublicUser, type UserRepository } from '../adapters/users.repository.js';

/** Ends every session of a user (AuthService). */
export interface SessionEnder {
  endAllSessions(userId: string): Promise<void>;
}

export class UserService {
  constructor(
    private readonly users: UserRepository,
    private readonly passwords: Passwords,
    private readonly sessions: SessionEnder,
  ) {}

  async create(body: CreateUserBody): Promise<PublicUser> {
    const { password, ...rest } = body;
    const created = await this.users.create({ ...rest, passwordHash: await this.passwords.hash(password) });
    if (!created)
      throw new AppError('CONFLICT', `the username ${body.username} is taken`, {
        errors: [{ path: 'body.username', message: 'taken', rule: 'taken' }],
      });
    return toPublicUser(created);
  }

  async me(id: string): Promise<PublicUser> {
    const user = await this.users.findById(id);
    if (!user) throw new AppError('NOT_FOUND', 'the account no longer exists');
    return toPublicUser(user);
  }

  /** A page of accounts, newest first, with how many match in all. */
  list(q: UserListQuery): Promise<UserList> {
    const filter = { ...(q.role ? { role: q.role } : {}), ...(q.q ? { words: q.q } : {}) };
    return this.users.list(filter, q.limit, q.offset);
  }

  /**
   * An admin resets a forgotten (or leaked) password: a temporary one, shown once to the admin, replaces
   * it; every session of the user ends; the temporary password only lets the user choose a new one.
   */
  async resetPassword(actor: AccessClaims, id: string): Promise<PasswordReset> {
    this.notSelf(actor, id, 'reset the password of', 'change it from your account page instead');
    const temporaryPassword = newTemporaryPassword();
    const user = await this.users.setTemporaryPassword(id, await this.passwords.hash(temporaryPassword));
    if (!user) throw new AppError('NOT_FOUND', 'no such user');
    await this.sessions.endAllSessions(id);
    return { temporaryPassword, user: toPublicUser(user) };
  }

  /** The account cannot sign in until enabled again; every session of it ends now. */
  async disable(actor: AccessClaims, id: string): Promise<PublicUser> {
    this.notSelf(actor, id, 'disable');
    const user = await this.users.setDisabled(id, true);
    if (!user) throw new AppError('NOT_FOUND', 'no such user');
    await this.sessions.endAllSessions(id);
    return toPublicUser(user);
  }

  async enable(id: string): Promise<PublicUser> {
    const user = await this.users.setDisabled(id, false);
    if (!user) throw new AppError('NOT_FOUND', 'no such user');
    return toPublicUser(user);
  }

  async signOutEverywhere(id: string): Promise<void> {
    if (!(await this.users.findById(id))) throw new AppError('NOT_FOUND', 'no such user');
    await this.sessions.endAllSessions(id);
  }

  /**
   * Deletes the account and ends its sessions. What it made stays: a teacher's lessons keep teaching
   * (admins manage them from then on), and so do Q&A answers and viewing figures.
   */
  async delete(actor: AccessClaims, id: string): Promise<void> {
    this.notSelf(actor, id, 'delete');
    if (!(await this.users.delete(id))) throw new AppError('NOT_FOUND', 'no such user');
    await this.sessions.endAllSessions(id);
  }

  /** An admin locking themselves out could leave a school with no admin at all. */
  private notSelf(actor: AccessClaims, id: string, what: string, instead?: string): void {
    if (actor.sub === id)
      throw new AppError('CONFLICT', `you cannot ${what} your own account${instead ? `; ${instead}` : ''}`);
  }
}

/** No letters or digits that read alike (l 1, O 0): it is read out or copied by hand. */
const TEMPORARY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/** Three groups of four (`k7mp-2xqa-9tvd`): about 70 bits, easy to read out over the phone. */
export function newTemporaryPassword(): string {
  const group = () => Array.from({ length: 4 }, () => TEMPORARY_ALPHABET[randomInt(31)]).join('');
  return [group(), group(), group()].join('-');
}
