import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { DEFAULT_PORTS, LogLevel, parseConfig } from '@sky/contracts';
import { z } from 'zod';

export const SfuConfigSchema = z
  .object({
    HOST: z.string().default('127.0.0.1'),
    PORT: z.coerce.number().int().min(0).max(65535).default(DEFAULT_PORTS.sfu),
    LOG_LEVEL: LogLevel,
    /** The mediasoup worker binary we build offline (scripts/mediasoup/build-worker.sh). */
    MEDIASOUP_WORKER_BIN: z.string().refine(existsSync, 'no file there: run npm run setup'),
    NUM_WORKERS: z.coerce.number().int().min(1).max(64).default(availableParallelism()),
    RTC_MIN_PORT: z.coerce.number().int().min(1024).max(65535).default(40000),
    RTC_MAX_PORT: z.coerce.number().int().min(1024).max(65535).default(40999),
    /** The address media binds to; 0.0.0.0 in a deployment. */
    RTC_LISTEN_IP: z.string().default('127.0.0.1'),
    /** The public address announced in ICE candidates when RTC_LISTEN_IP is not reachable by clients. */
    RTC_ANNOUNCED_IP: z.string().optional(),
  })
  .refine((c) => c.RTC_MAX_PORT - c.RTC_MIN_PORT + 1 >= c.NUM_WORKERS, {
    path: ['RTC_MAX_PORT'],
    message: 'the RTC port range must hold at least one port per worker',
  });
export type SfuConfig = z.infer<typeof SfuConfigSchema>;

export function loadConfig(env: Record<string, string | undefined>): SfuConfig {
  return parseConfig(SfuConfigSchema, env);
}
