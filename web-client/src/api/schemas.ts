import { PublicUser } from '@sky/contracts';
import type { Schema } from './client';

export interface UserList {
  items: PublicUser[];
  total: number;
}

/** `GET /api/users`; contracts has no list schema for it yet, so it is checked here from `PublicUser`. */
export const UserList: Schema<UserList> = {
  parse(data) {
    const o = (typeof data === 'object' && data !== null ? data : {}) as { items?: unknown; total?: unknown };
    if (!Array.isArray(o.items) || typeof o.total !== 'number') throw new Error('not a user list');
    return { items: o.items.map((u) => PublicUser.parse(u)), total: o.total };
  },
};
