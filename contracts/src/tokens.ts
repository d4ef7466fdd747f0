// JWT access tokens (HS256), for every service that signs or checks them: @sky/contracts/tokens.
import { AccessClaims } from './auth.js';
import { AppError } from './problem.js';
import { createSigner, createVerifier, TokenError } from 'fast-jwt';

export interface TokenIssuer {
  sign(claims: Omit<AccessClaims, 'typ'>): string;
  verify(token: string): AccessClaims;
  readonly ttlSec: number;
}

/** HS256 access tokens; every service that shares the secret can verify them. */
export function createTokenIssuer(secret: string, ttlSec: number): TokenIssuer {
  const signer = createSigner({ key: secret, algorithm: 'HS256', expiresIn: ttlSec * 1000 });
  const verifier = createVerifier({ key: secret, algorithms: ['HS256'] });
  return {
    ttlSec,
    sign: (claims) => signer({ ...claims, typ: 'access' }),
    verify(token) {
      let payload: unknown;
      try {
        payload = verifier(token);
      } catch (err) {
        if (err instanceof TokenError && err.code === TokenError.codes.expired) {
          throw new AppError('TOKEN_EXPIRED', 'the access token has expired; refresh it');
        }
        throw new AppError('UNAUTHENTICATED', 'the access token is not valid');
      }
      const claims = AccessClaims.safeParse(payload);
      if (!claims.success) throw new AppError('UNAUTHENTICATED', 'the access token is not valid');
      return claims.data;
    },
  };
}
