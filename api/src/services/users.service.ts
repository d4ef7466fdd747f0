import { randomInt } from 'node:crypto';
import {
  AppError,
  type AccessClaims,
  type CreateUserBody,
  type PasswordReset,
  type PublicUser,
  type UpdateMeBody,
  type UserList,
  type UserListQuery,
} from '@sky/contracts';
import type { Passwords } from '../adapters/password.js';
import { toPublicUser, type PlanStage, type UserRepository } from '../adapters/users.repository.js';

/** Ends every session of a user (AuthService). */
export interface SessionEnder {
  endAllSessions(userId: string): Promise<void>;
}

export class UserService {
  constructor(
    private readonly users: UserRepository,
    private readonly passwords: Passwords,
    private readonly sessions: SessionEnder,
    /** How long a temporary password from a reset works. */
    private readonly temporaryTtlSec: number,
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

  /**
   * A family sets its child's grade: its home shows that grade's day, and TVs it pairs from then on carry
   * that grade's channels. A student's grade is the school's to set.
   */
  async setGrade(actor: AccessClaims, body: UpdateMeBody): Promise<PublicUser> {
    if (actor.role !== 'family')
      throw new AppError(
        'FORBIDDEN',
        'only a family account sets its own grade; a student’s is the school’s',
      );
    const user = await this.users.setGrade(actor.sub, body.grade);
    if (!user) throw new AppError('NOT_FOUND', 'the account no longer exists');
    return toPublicUser(user);
  }

  /** A page of accounts, newest first, with how many match in all. */
  list(q: UserListQuery): Promise<UserList> {
    return this.users.list(listFilter(q), q.limit, q.offset);
  }

  /** How the database answers that page: the stages of its plan (an index, never a scan of every account). */
  listPlan(q: UserListQuery): Promise<PlanStage[]> {
    return this.users.listPlan(listFilter(q), q.limit, q.offset);
  }

  /**
   * An admin resets a forgotten (or leaked) password: a temporary one, shown once to the admin, replaces
   * it; every session of the user ends; the temporary password only lets the user choose a new one.
   */
  async resetPassword(actor: AccessClaims, id: string): Promise<PasswordReset> {
    this.notSelf(actor, id, 'reset the password of', 'change it from your account page instead');
    const temporaryPassword = newTemporaryPassword();
    const expiresAt = new Date(Date.now() + this.temporaryTtlSec * 1000);
    const hash = await this.passwords.hash(temporaryPassword);
    const user = await this.users.setTemporaryPassword(id, hash, expiresAt);
    if (!user) throw new AppError('NOT_FOUND', 'no such user');
    await this.sessions.endAllSessions(id);
    return { temporaryPassword, expiresAt: expiresAt.toISOString(), user: toPublicUser(user) };
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

const listFilter = (q: UserListQuery) => ({
  ...(q.role ? { role: q.role } : {}),
  ...(q.q ? { words: q.q } : {}),
});

/** No letters or digits that read alike (l 1, O 0): it is read out or copied by hand. */
const TEMPORARY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/** Three groups of four (`k7mp-2xqa-9tvd`): about 70 bits, easy to read out over the phone. */
export function newTemporaryPassword(): string {
  const group = () => Array.from({ length: 4 }, () => TEMPORARY_ALPHABET[randomInt(31)]).join('');
  return [group(), group(), group()].join('-');
}
