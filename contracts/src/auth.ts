import { z } from 'zod';
import { GradeId } from './grades.js';
import { ObjectIdString } from './lessons.js';
import { Role } from './roles.js';

export const Username = z
  .string()
  .trim()
  .min(3)
  .max(64)
  .regex(/^[a-zA-Z0-9._-]+$/, 'letters, digits, dot, dash and underscore only');

/** Where the refresh token goes: the JSON answer (devices, scripts) or an httpOnly cookie (the web client). */
export const RefreshTokenIn = z.enum(['body', 'cookie']);
export type RefreshTokenIn = z.infer<typeof RefreshTokenIn>;

export const LoginBody = z.strictObject({
  username: Username,
  password: z.string().min(1).max(256),
  /** `cookie`: the answer sets the `sky_refresh` cookie and leaves the token out of the body. */
  refreshTokenIn: RefreshTokenIn.optional(),
});
export type LoginBody = z.infer<typeof LoginBody>;

/** POST /api/auth/refresh and /logout: the token in the body, or (without it) the `sky_refresh` cookie. */
export const RefreshBody = z.strictObject({ refreshToken: z.string().min(1).max(4096).optional() });
export type RefreshBody = z.infer<typeof RefreshBody>;

/**
 * GET /api/public/sign-in: what the sign-in page may show. `demo`: the server runs `npm start`'s demo
 * (DEMO_MODE), whose generated logins are on its console; never true in production.
 */
export const SignInInfo = z.object({ demo: z.boolean() });
export type SignInInfo = z.infer<typeof SignInInfo>;

export const PublicUser = z.object({
  id: z.string(),
  username: z.string(),
  displayName: z.string(),
  role: Role,
  grade: GradeId.optional(),
  school: z.string().optional(),
  district: z.string().optional(),
  /** Set while an admin has disabled the account: it cannot sign in and its sessions have ended. */
  disabled: z.boolean().optional(),
});
export type PublicUser = z.infer<typeof PublicUser>;

/** A signed-in session as the web client sees it: the refresh token travels only in its httpOnly cookie. */
export const AccessGrant = z.object({
  accessToken: z.string(),
  /** Seconds until the access token expires. */
  expiresIn: z.number().int(),
  user: PublicUser,
});
export type AccessGrant = z.infer<typeof AccessGrant>;

export const TokenPair = AccessGrant.extend({ refreshToken: z.string() });
export type TokenPair = z.infer<typeof TokenPair>;

/** The claims of an access token, shared by every service that verifies one. */
export const AccessClaims = z.object({
  sub: z.string(),
  role: Role,
  grade: GradeId.optional(),
  /** The sign-in (refresh-token family) this token was issued for; the api refuses it once that ends. */
  sid: z.string().optional(),
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

/** `/api/users/:id` (admins): disable, enable, sign out everywhere, delete. */
export const UserIdParams = z.strictObject({ id: ObjectIdString });
export type UserIdParams = z.infer<typeof UserIdParams>;
