import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The one place the gateway runs ffmpeg: rendering its slate and channel logos once. */
export interface Renderer {
  render(args: string[]): Promise<void>;
}

export function ffmpegRenderer(ffmpeg: string): Renderer {
  return {
    async render(args) {
      await run(ffmpeg, ['-hide_banner', '-nostdin', '-y', '-loglevel', 'error', ...args], {
        maxBuffer: 16 * 1024 * 1024,
      });
    },
  };
}
