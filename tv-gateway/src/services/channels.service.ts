import {
  AppError,
  BEIJING_OFFSET,
  GRADE_NAMES,
  stageOf,
  type Channel,
  type GuideProgramme,
  type ScheduleEntry,
  type TvChannel,
} from '@sky/contracts';
import type { CurriculumSource } from '../adapters/curriculum.client.js';
import type { MediaSource } from '../adapters/api.client.js';
import { CHANNEL_RUNGS, slateFile, type ChannelRung } from './artwork.js';
import {
  buildRuns,
  catchupSpan,
  LIVE_WINDOW,
  renderPlaylist,
  runAt,
  SLATE_TICKS,
  tickAt,
  TICK_SEC,
  type Run,
  type Segment,
} from './timeline.js';

const GROUPS = { primary: '小学', junior: '初中', senior: '高中' } as const;

export interface ChannelServiceOptions {
  /** Public base URL of the gateway (playlists, slate, logos). */
  publicUrl: string;
  /** Where boxes fetch lesson media (/media/…). */
  mediaUrl?: string;
  catchupDays: number;
  now?: () => number;
}

/** Epoch seconds of a schedule entry's start or end (Beijing time). */
export const entrySec = (e: ScheduleEntry, which: 'start' | 'end') =>
  Date.parse(`${e.date}T${e[which]}:00${BEIJING_OFFSET}`) / 1000;

/**
 * The linear TV channels: the lineup, the guide, and live or catch-up playlists stitched from the
 * scheduled lessons' MPEG-TS segments (no re-encoding), with the slate between them. Runs per channel
 * and rung are cached until the schedule changes (`invalidate`), playlists per tick.
 */
export class ChannelService {
  private runs = new Map<string, Promise<Run[]>>();
  private rendered = new Map<string, { tick: number; text: string }>();
  private readonly now: () => number;

  constructor(
    private readonly curriculum: CurriculumSource,
    private readonly media: MediaSource,
    private readonly o: ChannelServiceOptions,
  ) {
    this.now = o.now ?? (() => Date.now() / 1000);
  }

  private readonly listeners: (() => void)[] = [];

  /** A schedule change: drop every cached answer, and tell whoever caches renderings of ours. */
  invalidate(): void {
    this.curriculum.invalidate();
    this.runs.clear();
    this.rendered.clear();
    for (const l of this.listeners) l();
  }

  onInvalidate(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** TV channels by number, as the M3U and the 10-foot UI list them. */
  async channels(): Promise<TvChannel[]> {
    const all = await this.curriculum.channels();
    return all
      .filter((c) => c.kind === 'tv')
      .sort((a, b) => a.number - b.number)
      .map((c) => ({
        id: c.id,
        number: c.number,
        name: c.zh,
        group: GROUPS[stageOf(c.grades[0]!)],
        grades: c.grades,
        logoUrl: `${this.o.publicUrl}/logos/${encodeURIComponent(c.id)}.png`,
        url: `${this.o.publicUrl}/channels/${encodeURIComponent(c.id)}.m3u8`,
      }));
  }

  async channel(id: string): Promise<Channel> {
    const c = (await this.curriculum.channels()).find((x) => x.id === id && x.kind === 'tv');
    if (!c) throw new AppError('NOT_FOUND', `no TV channel ${id}`);
    return c;
  }

  /** Programmes of every TV channel (or one) overlapping [fromSec, toSec). */
  async guide(fromSec: number, toSec: number, channelId?: string): Promise<GuideProgramme[]> {
    const channels = (await this.channels()).filter((c) => !channelId || c.id === channelId);
    const now = this.now();
    const oldest = now - this.o.catchupDays * 86400;
    const out: GuideProgramme[] = [];
    // Names are a nicety for guides: without them the guide still lists every programme.
    const [subjects, teachers] = await Promise.all([
      this.curriculum.subjectNames().catch(() => new Map<string, string>()),
      this.curriculum.teacherNames().catch(() => new Map<string, string>()),
    ]);
    for (const c of channels) {
      for (const e of await this.curriculum.programme(c.id)) {
        const start = entrySec(e, 'start');
        const stop = entrySec(e, 'end');
        if (stop <= fromSec || start >= toSec) continue;
        const aired = start <= now && start >= oldest;
        out.push({
          channelId: c.id,
          lessonId: e.lessonId,
          title: e.title,
          subject: e.subject,
          grade: e.grade,
          gradeName: GRADE_NAMES[e.grade].zh,
          ...(subjects.has(e.subject) ? { subjectName: subjects.get(e.subject)! } : {}),
          unit: e.unit,
          order: e.order,
          ...(teachers.has(e.teacherId) ? { teacher: teachers.get(e.teacherId)! } : {}),
          start: new Date(start * 1000).toISOString(),
          stop: new Date(stop * 1000).toISOString(),
          ...(aired ? { catchupUrl: `${c.url}?utc=${start}&lutc=${Math.floor(now)}` } : {}),
          live: start <= now && now < stop,
        });
      }
    }
    return out.sort((a, b) => a.start.localeCompare(b.start) || a.channelId.localeCompare(b.channelId));
  }

  /** The channel's master playlist: one variant per rung; catch-up and token parameters pass through. */
  async master(id: string, query: string): Promise<string> {
    await this.channel(id);
    const q = query ? `?${query}` : '';
    return [
      '#EXTM3U',
      '#EXT-X-VERSION:3',
      ...CHANNEL_RUNGS.flatMap((r) => [
        `#EXT-X-STREAM-INF:BANDWIDTH=${r.bandwidth},RESOLUTION=${r.width}x${r.height},CODECS="${r.codecs}"`,
        `${encodeURIComponent(id)}/${r.name}.m3u8${q}`,
      ]),
      '',
    ].join('\n');
  }

  /**
   * A rung's media playlist: the live window ending now, or — with `utc` — the catch-up of the
   * programme airing then (within catch-up days), as a VOD playlist.
   */
  async playlist(id: string, rung: ChannelRung, utc?: number): Promise<string> {
    await this.channel(id);
    const runs = await this.runsOf(id, rung);
    const now = this.now();
    const slate = this.slate(rung);
    if (utc !== undefined) {
      if (utc > now) throw new AppError('NOT_FOUND', 'that programme has not aired yet');
      if (utc < now - this.o.catchupDays * 86400) {
        throw new AppError('NOT_FOUND', `catch-up keeps ${this.o.catchupDays} days`);
      }
      const span = catchupSpan(runs, tickAt(utc));
      return renderPlaylist({ runs, slate, ...span, to: Math.min(span.to, tickAt(now)), vod: true });
    }
    const tick = tickAt(now);
    const key = `${id}|${rung}`;
    const hit = this.rendered.get(key);
    if (hit?.tick === tick) return hit.text;
    const text = renderPlaylist({ runs, slate, from: tick - LIVE_WINDOW + 1, to: tick, vod: false });
    this.rendered.set(key, { tick, text });
    return text;
  }

  /**
   * Catch-up by plan lesson id: where a box plays a lesson that aired within catch-up days — the
   * lesson's own TV master when it has a recording, else the channel's catch-up at its start.
   */
  async catchupByLesson(lessonId: string): Promise<string> {
    const now = this.now();
    for (const c of await this.channels()) {
      const e = (await this.curriculum.programme(c.id)).find((x) => x.lessonId === lessonId);
      if (!e) continue;
      const start = entrySec(e, 'start');
      if (start > now) throw new AppError('NOT_FOUND', `${lessonId} has not aired yet`);
      if (start < now - this.o.catchupDays * 86400) {
        throw new AppError('NOT_FOUND', `catch-up keeps ${this.o.catchupDays} days`);
      }
      const media = e.vodLessonId ? await this.media.lessonMedia(e.vodLessonId) : undefined;
      if (media?.lesson.tvPlaybackUrl && this.o.mediaUrl) {
        return new URL(media.lesson.tvPlaybackUrl, `${this.o.mediaUrl}/`).href;
      }
      return `${c.url}?utc=${start}&lutc=${Math.floor(now)}`;
    }
    throw new AppError('NOT_FOUND', `no lesson ${lessonId} on any TV channel`);
  }

  /** What is on air now (the 10-foot UI's "now playing"). */
  async onAir(id: string): Promise<{ lessonId: string } | undefined> {
    const runs = await this.runsOf(id, CHANNEL_RUNGS[0].name);
    const r = runAt(runs, tickAt(this.now()));
    return r ? { lessonId: r.lessonId } : undefined;
  }

  private slate(rung: ChannelRung): Segment[] {
    return Array.from({ length: SLATE_TICKS }, (_, i) => ({
      url: `${this.o.publicUrl}/slate/${rung}/${slateFile(i)}`,
      durationSec: TICK_SEC,
    }));
  }

  private runsOf(id: string, rung: ChannelRung): Promise<Run[]> {
    const key = `${id}|${rung}`;
    let p = this.runs.get(key);
    if (!p) {
      p = this.loadRuns(id, rung);
      this.runs.set(key, p);
      p.catch(() => this.runs.delete(key));
    }
    return p;
  }

  /** Lessons with a ready recording become runs; the others (not recorded, live) show the slate. */
  private async loadRuns(id: string, rung: ChannelRung): Promise<Run[]> {
    const height = CHANNEL_RUNGS.find((r) => r.name === rung)!.height;
    const entries = (await this.curriculum.programme(id)).filter(
      (e) => e.vodLessonId && e.recording !== 'live',
    );
    const items = await Promise.all(
      entries.map(async (e) => {
        const m = await this.media.lessonMedia(e.vodLessonId!);
        // The tallest rendition not above the channel's rung, else the smallest there is.
        const r = m?.renditions.find((x) => x.height <= height) ?? m?.renditions.at(-1);
        return r ? { startSec: entrySec(e, 'start'), lessonId: e.lessonId, segments: r.segments } : undefined;
      }),
    );
    return buildRuns(items.filter((x) => x !== undefined));
  }
}
