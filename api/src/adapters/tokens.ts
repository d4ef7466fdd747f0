export {
  createTicketIssuer,
  createTokenIssuer,
  type TicketIssuer,
  type TokenIssuer,
} from '@sky/contracts/tokens';
