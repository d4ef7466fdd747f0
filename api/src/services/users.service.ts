import { AppError, type CreateUserBody, type PublicUser, type Role, type UserList } from '@sky/contracts';
import type { Passwords } from '../adapters/password.js';
import { toPublicUser, type UserRepository } from '../adapters/users.repository.js';

export class UserService {
  constructor(
    private readonly users: UserRepository,
    private readonly passwords: Passwords,
  ) {}

  async create(body: CreateUserBody): Promise<PublicUser> {
    const { password, ...rest } = body;
    const created = await this.users.create({ ...rest, passwordHash: await this.passwords.hash(password) });
    if (!created) throw new AppError('CONFLICT', `the username ${body.username} is taken`);
    return toPublicUser(created);
  }

  async me(id: string): Promise<PublicUser> {
    const user = await this.users.findById(id);
    if (!user) throw new AppError('NOT_FOUND', 'the account no longer exists');
    return toPublicUser(user);
  }

  list(filter: { role?: Role }, limit: number, offset: number): Promise<UserList> {
    return this.users.list(filter, limit, offset);
  }
}
