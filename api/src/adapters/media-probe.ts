// ffprobe/ffmpeg for checking an upload before a transcode is queued (the transcoder probes again).
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { MediaFailure } from '@sky/contracts';

const run = promisify(execFile);

export type MediaCheck =
  | { ok: true; durationSec: number; hasVideo: boolean; hasAudio: boolean }
  | { ok: false; code: MediaFailure; reason: string };

export interface MediaProbe {
  check(file: string): Promise<MediaCheck>;
}

export function createMediaProbe(paths: { ffprobe: string; ffmpeg: string }): MediaProbe {
  return {
    async check(file) {
      if ((await stat(file)).size === 0)
        return { ok: false, code: 'EMPTY_FILE', reason: 'the file is empty' };
      let info: { streams?: { codec_type?: string }[]; format?: { duration?: string } };
      try {
        const { stdout } = await run(
          paths.ffprobe,
          ['-v', 'error', '-show_entries', 'stream=codec_type:format=duration', '-of', 'json', file],
          { timeout: 60_000 },
        );
        info = JSON.parse(stdout) as typeof info;
      } catch (err) {
        const line =
          String((err as { stderr?: string }).stderr ?? '')
            .trim()
            .split('\n')
            .pop() ?? '';
        return {
          ok: false,
          code: 'NOT_MEDIA',
          reason: `not a readable media file${line ? ` (${line})` : ''}`,
        };
      }
      const types = new Set((info.streams ?? []).map((s) => s.codec_type));
      const hasVideo = types.has('video');
      const hasAudio = types.has('audio');
      if (!hasVideo && !hasAudio)
        return { ok: false, code: 'NO_STREAMS', reason: 'the file has no video or audio stream' };
      const durationSec = Number(info.format?.duration ?? 0);
      if (!(durationSec > 0)) return { ok: false, code: 'NO_DURATION', reason: 'the file has no duration' };
      // Decodable: the first seconds must decode without an error (a truncated or corrupt file fails here).
      try {
        const { stderr } = await run(
          paths.ffmpeg,
          ['-v', 'error', '-xerror', '-t', '3', '-i', file, '-f', 'null', '-'],
          {
            timeout: 120_000,
          },
        );
        if (stderr.trim())
          return {
            ok: false,
            code: 'UNDECODABLE',
            reason: `the file does not decode (${stderr.trim().split('\n')[0]})`,
          };
      } catch (err) {
        const line =
          String((err as { stderr?: string }).stderr ?? '')
            .trim()
            .split('\n')[0] ?? '';
        return {
          ok: false,
          code: 'UNDECODABLE',
          reason: `the file does not decode${line ? ` (${line})` : ''}`,
        };
      }
      return { ok: true, durationSec, hasVideo, hasAudio };
    },
  };
}
