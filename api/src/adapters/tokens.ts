export { createTokenIssuer, type TokenIssuer } from '@sky/contracts/tokens';
