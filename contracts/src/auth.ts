import { z } from 'zod';
import type { FieldError, FieldRule } from './errors.js';
import { GradeId } from './grades.js';
import { ObjectIdString, SearchText } from './lessons.js';
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

/**
 * Password rules, after NIST SP 800-63B: length (8 to 256), not a common or trivially simple one, not
 * the username, not the one it replaces; no composition rules. The messages are the field errors the api
 * answers with, and the keys the web client translates them by.
 */
export const PASSWORD_RULES = {
  short: 'at least 8 characters',
  long: 'at most 256 characters',
  common: 'too common or too simple: choose one that is harder to guess',
  username: 'must not contain the username',
  same: 'must differ from the current password',
} as const;
export type PasswordRule = keyof typeof PASSWORD_RULES;
const PASSWORD_MIN = 8;
const PASSWORD_MAX = 256;

/** Each password rule as a field error's rule and limit (errors.ts FIELD_RULES): what clients translate. */
export const PASSWORD_FIELD_RULES: Record<PasswordRule, { rule: FieldRule; limit?: number }> = {
  short: { rule: 'too_short', limit: PASSWORD_MIN },
  long: { rule: 'too_long', limit: PASSWORD_MAX },
  common: { rule: 'common' },
  username: { rule: 'contains_username' },
  same: { rule: 'same_as_current' },
};

/** The field error of a password (at `path`, `body.newPassword`) that breaks `rule`. */
export function passwordFieldError(path: string, rule: PasswordRule): FieldError {
  return { path, message: PASSWORD_RULES[rule], ...PASSWORD_FIELD_RULES[rule] };
}

/** Among the most used passwords of at least 8 characters, in the world and in Chinese leaks. */
const COMMON_PASSWORDS = new Set([
  '1234567890',
  '0987654321',
  'password',
  'password1',
  'password123',
  'passw0rd',
  'iloveyou',
  'sunshine',
  'princess',
  'football',
  'baseball',
  'welcome1',
  'qwertyui',
  'qwertyuiop',
  'qwerty123',
  '1qaz2wsx',
  '1q2w3e4r',
  'zxcvbnm1',
  'asdfghjk',
  'a1234567',
  'abc12345',
  'abcd1234',
  'aa123456',
  'woaini1314',
  'woaini520',
  '5201314520',
  'skyclassroom',
  'kongzhongketang',
]);

/** The first rule a new password breaks (`username`, `current`: what it must not contain or repeat), or null. */
export function passwordRuleBroken(
  password: string,
  context: { username?: string; current?: string } = {},
): PasswordRule | null {
  const chars = [...password];
  if (chars.length < PASSWORD_MIN) return 'short';
  if (chars.length > PASSWORD_MAX) return 'long';
  const lower = password.toLowerCase();
  // one character repeated, or consecutive characters up or down (12345678, abcdefgh, 87654321)
  const codes = chars.map((c) => c.codePointAt(0) ?? 0);
  const step = (codes[1] ?? 0) - (codes[0] ?? 0);
  const run = Math.abs(step) <= 1 && codes.every((c, i) => i === 0 || c - codes[i - 1]! === step);
  const fewDigits = /^\d+$/.test(password) && new Set(chars).size <= 2; // 88888888, 12121212
  if (run || fewDigits || COMMON_PASSWORDS.has(lower)) return 'common';
  if (context.username && lower.includes(context.username.toLowerCase())) return 'username';
  if (context.current !== undefined && password === context.current) return 'same';
  return null;
}

/**
 * A password being set (a new account, a change): the rules that need no context. The issue carries the
 * rule and limit (`params`), which the api's field errors pass on (problem.ts fieldRule).
 */
export const NewPassword = z.string().superRefine((password, ctx) => {
  const broken = passwordRuleBroken(password);
  if (broken)
    ctx.addIssue({ code: 'custom', message: PASSWORD_RULES[broken], params: PASSWORD_FIELD_RULES[broken] });
});

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
  /** Set after an admin reset the password: the next sign-in must choose a new one. */
  mustChangePassword: z.boolean().optional(),
  /** With mustChangePassword: when the temporary password stops working (ISO 8601). */
  temporaryPasswordExpiresAt: z.string().optional(),
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
    password: NewPassword,
    displayName: z.string().trim().min(1).max(64),
    role: Role,
    grade: GradeId.optional(),
    school: z.string().trim().min(1).max(128).optional(),
    district: z.string().trim().min(1).max(64).optional(),
  })
  .refine((u) => u.role !== 'student' || u.grade !== undefined, {
    path: ['grade'],
    message: 'a student belongs to a grade',
  })
  .refine((u) => !u.password.toLowerCase().includes(u.username.toLowerCase()), {
    path: ['password'],
    message: PASSWORD_RULES.username,
    params: PASSWORD_FIELD_RULES.username,
  });
export type CreateUserBody = z.infer<typeof CreateUserBody>;

/** POST /api/auth/password: a signed-in user changes their own password (their other sign-ins end). */
export const ChangePasswordBody = z.strictObject({
  currentPassword: z.string().min(1).max(256),
  newPassword: NewPassword,
});
export type ChangePasswordBody = z.infer<typeof ChangePasswordBody>;

/**
 * POST /api/auth/login/new-password: sign in and set a new password in one step. The answer to a login
 * refused with PASSWORD_CHANGE_REQUIRED (a temporary password an admin set); answers as login does.
 */
export const NewPasswordLoginBody = LoginBody.extend({ newPassword: NewPassword });
export type NewPasswordLoginBody = z.infer<typeof NewPasswordLoginBody>;

/** POST /api/users/:id/password-reset (admins): shown once to the admin, who hands it to the user. */
export const PasswordReset = z.object({
  /** Works for one sign-in, which must set a new password, until `expiresAt`. */
  temporaryPassword: z.string(),
  /** ISO 8601: unused by then, it is refused (TEMPORARY_PASSWORD_EXPIRED) and only a new reset helps. */
  expiresAt: z.string(),
  user: PublicUser,
});
export type PasswordReset = z.infer<typeof PasswordReset>;

/**
 * GET /api/users (admins): `q` is the start of the username, of the name or of one of its words (a
 * Chinese name also from any of its characters: 小明 finds 王小明), in any case; a role; a page of at most 100.
 */
export const UserListQuery = z.strictObject({
  q: SearchText.optional(),
  role: Role.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});
export type UserListQuery = z.infer<typeof UserListQuery>;

/** GET /api/users (admins). */
export const UserList = z.object({ items: z.array(PublicUser), total: z.number().int() });
export type UserList = z.infer<typeof UserList>;

/** PATCH /api/me (a family): the grade of its child, whose lessons its home shows and its TVs carry. */
export const UpdateMeBody = z.strictObject({ grade: GradeId });
export type UpdateMeBody = z.infer<typeof UpdateMeBody>;

/** `/api/users/:id` (admins): disable, enable, sign out everywhere, delete. */
export const UserIdParams = z.strictObject({ id: ObjectIdString });
export type UserIdParams = z.infer<typeof UserIdParams>;
