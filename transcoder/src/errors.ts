export { AppError, registerProblemHandlers } from '@sky/contracts/http';
