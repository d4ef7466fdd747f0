import { hash, verify } from '@node-rs/argon2';

/** argon2id with the library's defaults (OWASP-grade memory cost). */
export const passwords = {
  hash: (plain: string): Promise<string> => hash(plain),
  verify: (stored: string, plain: string): Promise<boolean> => verify(stored, plain).catch(() => false),
};
export type Passwords = typeof passwords;
