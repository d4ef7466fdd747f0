export { createJobQueues, type JobHandler, type JobQueues } from '@sky/contracts/queue';
