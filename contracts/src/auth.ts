import { z } from 'zod';
import { GradeId } from './grades.js';
import { Role } from './roles.js';

export const Username = z
  .string()
  .trim()
  .min(3)
  .max(64)
  .regex(/^[a-zA-Z0-9._-]+$/, 'letters, digits, dot, dash and underscore only');

export const LoginBody = z.strictObject({
  username: Username,
  password: z.string().min(1).max(256),
});
export type LoginBody = z.infer<typeof LoginBody>;

export const RefreshBody = z.strictObject({ refreshToken: z.string().min(1).max(4096) });
export type RefreshBody = z.infer<typeof RefreshBody>;

export const PublicUser = z.object({
  id: z.string(),
  username: z.string(),
  displayName: z.string(),
  role: Role,
  grade: GradeId.optional(),
  school: z.string().optional(),
  district: z.string().optional(),
});
export type PublicUser = z.infer<typeof PublicUser>;

export const TokenPair = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  /** Seconds until the access token expires. */
  expiresIn: z.number().int(),
  user: PublicUser,
});
export type TokenPair = z.infer<typeof TokenPair>;

/** The claims of an access token, shared by every service that verifies one. */
export const AccessClaims = z.object({
  sub: z.string(),
  role: Role,
  grade: GradeId.optional(),
  typ: z.literal('access'),
});
export type AccessClaims = z.infer<typeof AccessClaims>;

export const CreateUserBody = z
  .strictObject({
    username: Username,
    password: z.string().min(8).max(256),
    displayName: z.string().trim().min(1).max(64),
    role: Role,
    grade: GradeId.optional(),
    school: z.string().trim().min(1).max(128).optional(),
    district: z.string().trim().min(1).max(64).optional(),
  })
  .refine((u) => u.role !== 'student' || u.grade !== undefined, {
    path: ['grade'],
    message: 'a student belongs to a grade',
  });
export type CreateUserBody = z.infer<typeof CreateUserBody>;

/** GET /api/users (admins). */
export const UserList = z.object({ items: z.array(PublicUser), total: z.number().int() });
export type UserList = z.infer<typeof UserList>;
