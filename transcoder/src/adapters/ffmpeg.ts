// The only file that knows fluent-ffmpeg (archived upstream in 2025) and the ffprobe CLI: swap them here.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import ffmpeg, { type FfmpegCommand, type FfprobeData } from 'fluent-ffmpeg';
import type { FfmpegSpec } from '../services/hls-args.js';
import type { Probe } from '../services/ladder.js';

const run = promisify(execFile);

export interface Progress {
  percent: number | undefined;
  fps: number;
  timemark: string;
}

export interface VideoStreamInfo {
  profile: string;
  level: number;
  width: number;
  height: number;
  fps: number;
}

export interface VideoPacket {
  pos: number;
  ptsSec: number;
  key: boolean;
}

export interface Ffmpeg {
  probe(file: string): Promise<Probe>;
  /** The first video stream's coding parameters (for CODECS / RESOLUTION / FRAME-RATE). */
  videoInfo(file: string): Promise<VideoStreamInfo | undefined>;
  /** Byte position and time of every video packet (for I-frame playlists). */
  videoPackets(file: string): Promise<VideoPacket[]>;
  run(spec: FfmpegSpec, onProgress?: (p: Progress) => void): Promise<void>;
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

/** `nice`: how far below this process's priority the encodes run (`nice -n`); probes keep its own. */
export function createFfmpeg(paths: { ffmpeg: string; ffprobe: string; nice?: number }): Ffmpeg {
  const running = new Set<FfmpegCommand>();
  const ffprobe = (file: string) =>
    new Promise<FfprobeData>((resolve, reject) => {
      ffmpeg(file)
        .setFfprobePath(paths.ffprobe)
        .ffprobe((err: Error | null, data: FfprobeData) => {
          if (err) reject(new ProbeError(err.message.split('\n').filter(Boolean).pop() ?? 'unreadable'));
          else resolve(data);
        });
    });
  return {
    probe: async (file) => toProbe(await ffprobe(file)),
    async videoInfo(file) {
      const v = (await ffprobe(file)).streams.find((s) => s.codec_type === 'video');
      if (!v?.width || !v.height) return undefined;
      return {
        profile: String(v.profile ?? 'High'),
        level: Number(v.level ?? 40),
        width: v.width,
        height: v.height,
        fps: rate(v.avg_frame_rate) || rate(v.r_frame_rate),
      };
    },
    async videoPackets(file) {
      const { stdout } = await run(
        paths.ffprobe,
        [
          '-v',
          'error',
          '-select_streams',
          'v:0',
          '-show_entries',
          'packet=pts_time,pos,flags',
          '-of',
          'csv=p=0',
          file,
        ],
        { maxBuffer: 64 * 1024 * 1024 },
      );
      return stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const [pts, pos, flags] = line.split(',');
          return { ptsSec: Number(pts), pos: Number(pos), key: (flags ?? '').includes('K') };
        })
        .filter((p) => Number.isFinite(p.pos) && p.pos >= 0);
    },
    run(spec, onProgress) {
      return new Promise((resolve, reject) => {
        const cmd = ffmpeg(spec.input).setFfmpegPath(paths.ffmpeg);
        if (paths.nice) cmd.renice(paths.nice);
        // spread: fluent-ffmpeg splits a lone array element on its space ("v:0 v:1") otherwise
        cmd.inputOptions(...spec.inputOptions);
        for (const out of spec.outputs) cmd.output(out.target).outputOptions(...out.options);
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
