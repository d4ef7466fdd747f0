// The only file that knows fluent-ffmpeg (archived upstream in 2025): swap it here if it must go.
import ffmpeg, { type FfmpegCommand, type FfprobeData } from 'fluent-ffmpeg';
import type { HlsCommand } from '../services/hls-args.js';
import type { Probe } from '../services/ladder.js';

export interface Progress {
  percent: number | undefined;
  fps: number;
  timemark: string;
}

export interface Ffmpeg {
  probe(file: string): Promise<Probe>;
  run(cmd: HlsCommand, onProgress?: (p: Progress) => void): Promise<void>;
  /** Kills every running ffmpeg (shutdown). */
  killAll(): void;
}

/** ffprobe refused the file: it is not media we can read. */
export class ProbeError extends Error {}

function rate(r: string | undefined): number {
  const [n, d] = (r ?? '').split('/').map(Number);
  return n && d ? n / d : 0;
}

export function toProbe(data: FfprobeData): Probe {
  const v = data.streams.find((s) => s.codec_type === 'video' && s.disposition?.attached_pic !== 1);
  const a = data.streams.find((s) => s.codec_type === 'audio');
  const duration = Number(data.format.duration ?? v?.duration ?? a?.duration ?? 0);
  return {
    durationSec: Number.isFinite(duration) ? duration : 0,
    ...(v?.width && v.height
      ? { video: { width: v.width, height: v.height, fps: rate(v.avg_frame_rate) || rate(v.r_frame_rate) } }
      : {}),
    ...(a ? { audio: { channels: a.channels ?? 2, sampleRate: Number(a.sample_rate ?? 48000) } } : {}),
  };
}

export function createFfmpeg(paths: { ffmpeg: string; ffprobe: string }): Ffmpeg {
  const running = new Set<FfmpegCommand>();
  return {
    probe(file) {
      return new Promise((resolve, reject) => {
        const cmd = ffmpeg(file).setFfprobePath(paths.ffprobe);
        cmd.ffprobe((err: Error | null, data: FfprobeData) => {
          if (err) reject(new ProbeError(err.message.split('\n').filter(Boolean).pop() ?? 'unreadable'));
          else resolve(toProbe(data));
        });
      });
    },
    run(spec, onProgress) {
      return new Promise((resolve, reject) => {
        const cmd = ffmpeg(spec.input)
          .setFfmpegPath(paths.ffmpeg)
          // spread: fluent-ffmpeg splits a lone array element on its space ("v:0 v:1") otherwise
          .inputOptions(...spec.inputOptions)
          .outputOptions(...spec.outputOptions)
          .output(spec.output);
        running.add(cmd);
        cmd.on('progress', (p) =>
          onProgress?.({ percent: p.percent, fps: p.currentFps, timemark: p.timemark }),
        );
        cmd.on('end', () => {
          running.delete(cmd);
          resolve();
        });
        cmd.on('error', (err: Error, _stdout: string | null, stderr: string | null) => {
          running.delete(cmd);
          const tail = (stderr ?? '').split('\n').filter(Boolean).slice(-3).join(' | ');
          reject(new Error(`ffmpeg failed: ${err.message}${tail ? ` (${tail})` : ''}`));
        });
        cmd.run();
      });
    },
    killAll() {
      for (const cmd of running) cmd.kill('SIGKILL');
    },
  };
}
