import {
  AppError,
  GRADE_NAMES,
  slotInstant,
  stageOf,
  strictestCodecs,
  type Channel,
  type GuideProgramme,
  type ScheduleEntry,
  type TvChannel,
} from '@sky/contracts';
import type { CurriculumSource, SubjectNames } from '../adapters/curriculum.client.js';
import type { LessonMedia, MediaSource, Rendition } from '../adapters/api.client.js';
import type { LiveSource } from '../adapters/live.client.js';
import { CHANNEL_RUNGS, slateFile, type ChannelRung, type StreamInfo } from './artwork.js';
import {
  LIVE_DELAY_SEC,
  liveRuns,
  SETTLE_WAIT_SEC,
  tickParts,
  tickSettled,
  type LiveSlot,
} from './live-timeline.js';
import {
  buildRuns,
  catchupSpan,
  LIVE_WINDOW,
  renderPlaylist,
  runAt,
  SLATE_TICKS,
  tickAt,
  TICK_SEC,
  tickStartSec,
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
  /** What the slates of a rung are (the Artwork renders and measures them); without it, not counted. */
  slates?: (rung: ChannelRung) => Promise<StreamInfo[]>;
}

/** The tallest rendition not above the channel's rung, else the smallest there is. */
function renditionFor(m: LessonMedia | undefined, rung: ChannelRung): Rendition | undefined {
  const height = CHANNEL_RUNGS.find((r) => r.name === rung)!.height;
  return m?.renditions.find((x) => x.height <= height) ?? m?.renditions.at(-1);
}

/** Epoch seconds of a schedule entry's start or end (Beijing time). */
export const entrySec = (e: ScheduleEntry, which: 'start' | 'end') =>
  Date.parse(slotInstant(e.date, e[which])) / 1000;

/** A live lesson may overrun its slot into a free channel by this much (it never delays the next programme). */
const LIVE_OVERRUN_SEC = 1800;
/** Joined live ticks kept in memory: every box on a channel asks for the same few. */
const LIVE_TICKS_KEPT = 64;

/**
 * The linear TV channels: the lineup, the guide, and live or catch-up playlists stitched from the
 * scheduled lessons' MPEG-TS segments (no re-encoding), with the slate between them; a lesson taught
 * live is carried live in its slot (live-timeline). Runs of recorded lessons per channel and rung are
 * cached until the schedule changes (`invalidate`), a finished live slot's runs for good, playlists per tick.
 */
export class ChannelService {
  private runs = new Map<string, Promise<Run[]>>();
  private recordedStreams = new Map<string, Promise<StreamInfo[]>>();
  private finishedLive = new Map<string, Run[]>();
  private liveTicks = new Map<string, Promise<Buffer>>();
  private rendered = new Map<string, { tick: number; text: string }>();
  private readonly now: () => number;

  constructor(
    private readonly curriculum: CurriculumSource,
    private readonly media: MediaSource,
    private readonly live: LiveSource,
    private readonly o: ChannelServiceOptions,
  ) {
    this.now = o.now ?? (() => Date.now() / 1000);
  }

  private readonly listeners: (() => void)[] = [];

  /** A schedule change: drop every cached answer, and tell whoever caches renderings of ours. */
  invalidate(): void {
    this.curriculum.invalidate();
    this.runs.clear();
    this.recordedStreams.clear();
    this.finishedLive.clear();
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
      this.curriculum.subjectNames().catch(() => new Map<string, SubjectNames>()),
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
          ...(subjects.has(e.subject)
            ? { subjectName: subjects.get(e.subject)!.zh, subjectNameEn: subjects.get(e.subject)!.en }
            : {}),
          unit: e.unit,
          order: e.order,
          ...(teachers.has(e.teacherId) ? { teacher: teachers.get(e.teacherId)! } : {}),
          start: new Date(start * 1000).toISOString(),
          stop: new Date(stop * 1000).toISOString(),
          ...(aired ? { catchupUrl: `${c.url}?utc=${start}&lutc=${Math.floor(now)}` } : {}),
          live: start <= now && now < stop,
          ...(e.recording === 'live' ? { taughtLive: true } : {}),
          ...(e.vodLessonId ? { vodLessonId: e.vodLessonId } : {}),
        });
      }
    }
    return out.sort((a, b) => a.start.localeCompare(b.start) || a.channelId.localeCompare(b.channelId));
  }

  /**
   * The channel's master playlist: one variant per rung, whose BANDWIDTH and CODECS describe everything
   * the rung stitches — the highest peak and the strictest profile and level among its lessons, the
   * slate and the live lessons it carries (see `carried`). Catch-up and token parameters pass through.
   */
  async master(id: string, query: string): Promise<string> {
    await this.channel(id);
    const q = query ? `?${query}` : '';
    const rungs = await Promise.all(
      CHANNEL_RUNGS.map(async (r) => ({ r, s: await this.carried(id, r.name) })),
    );
    return [
      '#EXTM3U',
      '#EXT-X-VERSION:3',
      ...rungs.flatMap(({ r, s }) => [
        `#EXT-X-STREAM-INF:BANDWIDTH=${Math.ceil(s.bandwidth)},RESOLUTION=${r.width}x${r.height}` +
          (s.codecs.length > 0 ? `,CODECS="${s.codecs.join(',')}"` : ''),
        `${encodeURIComponent(id)}/${r.name}.m3u8${q}`,
      ]),
      '',
    ].join('\n');
  }

  /**
   * What a rung of the channel carries, as one stream: the slate; every lesson of the term the channel
   * airs (its rendition at this rung, as the transcoder measured it; a live lesson's replay too); and the
   * live lessons on the air or within catch-up, as the bridge's master says its encoder is set.
   */
  private async carried(id: string, rung: ChannelRung): Promise<StreamInfo> {
    const now = this.now();
    const height = CHANNEL_RUNGS.find((r) => r.name === rung)!.height;
    const oldest = now - this.o.catchupDays * 86400;
    const live = (await this.liveSlots(id)).filter((s) => {
      const start = tickStartSec(s.startTick);
      return start <= now && tickStartSec(s.capTick) >= oldest;
    });
    const liveStreams = await Promise.all(
      live.map(async (slot): Promise<StreamInfo | undefined> => {
        const master = await this.live.tvMaster(slot.lessonId).catch(() => undefined);
        const v =
          master?.find((x) => x.uri.startsWith(`${rung}/`)) ?? master?.find((x) => x.height === height);
        return v && { bandwidth: v.bandwidth, codecs: v.codecs };
      }),
    );
    const streams = [
      ...(await (this.o.slates?.(rung) ?? Promise.resolve([]))),
      ...(await this.recordedStreamsOf(id, rung)),
      ...liveStreams.filter((x) => x !== undefined),
    ];
    return {
      bandwidth: Math.max(0, ...streams.map((x) => x.bandwidth)),
      codecs: strictestCodecs(streams.map((x) => x.codecs)),
    };
  }

  private recordedStreamsOf(id: string, rung: ChannelRung): Promise<StreamInfo[]> {
    const key = `${id}|${rung}`;
    let p = this.recordedStreams.get(key);
    if (!p) {
      p = (async () => {
        const entries = (await this.curriculum.programme(id)).filter((e) => e.vodLessonId);
        const ids = [...new Set(entries.map((e) => e.vodLessonId!))];
        const media = await Promise.all(ids.map((l) => this.media.lessonMedia(l)));
        return media.flatMap((m) => {
          const r = renditionFor(m, rung);
          return r ? [{ bandwidth: r.bandwidth, codecs: r.codecs }] : [];
        });
      })();
      this.recordedStreams.set(key, p);
      p.catch(() => this.recordedStreams.delete(key));
    }
    return p;
  }

  /**
   * A rung's media playlist: the live window ending now, or — with `utc` — the catch-up of the
   * programme airing then (within catch-up days): a VOD playlist once it has aired to its end, an EVENT
   * playlist (growing, no ENDLIST) while it is still on the air.
   */
  async playlist(id: string, rung: ChannelRung, utc?: number): Promise<string> {
    await this.channel(id);
    const now = this.now();
    const { runs, pendingFrom } = await this.timeline(id, rung, now);
    const slate = this.slate(rung);
    // a live tick whose segments are not all there yet is not listed, nor anything after it
    const last = Math.min(tickAt(now), (pendingFrom ?? Infinity) - 1);
    if (utc !== undefined) {
      if (utc > now) throw new AppError('NOT_FOUND', 'that programme has not aired yet');
      if (utc < now - this.o.catchupDays * 86400) {
        throw new AppError('NOT_FOUND', `catch-up keeps ${this.o.catchupDays} days`);
      }
      const played = await this.withReplays(id, rung, runs);
      const span = catchupSpan(played, tickAt(utc));
      const airing = span.to > last || (await this.liveSlotOpen(id, span.from, now));
      return renderPlaylist({
        runs: played,
        slate,
        ...span,
        to: Math.min(span.to, last),
        type: 'event',
        ended: !airing,
      });
    }
    const key = `${id}|${rung}`;
    const hit = this.rendered.get(key);
    if (hit?.tick === last) return hit.text;
    const text = renderPlaylist({ runs, slate, from: last - LIVE_WINDOW + 1, to: last, type: 'live' });
    this.rendered.set(key, { tick: last, text });
    return text;
  }

  /**
   * A live tick of a lesson on the air: its 1-second segments joined into one (see live-timeline). Only
   * lessons scheduled live are served, and only ticks that are settled (listed in a playlist).
   */
  async liveSegment(lessonId: string, rung: ChannelRung, tick: number): Promise<Buffer> {
    const key = `${lessonId}|${rung}|${tick}`;
    let p = this.liveTicks.get(key);
    if (!p) {
      p = this.joinLiveTick(lessonId, rung, tick);
      this.liveTicks.set(key, p);
      if (this.liveTicks.size > LIVE_TICKS_KEPT) this.liveTicks.delete(this.liveTicks.keys().next().value!);
      p.catch(() => this.liveTicks.delete(key));
    }
    return p;
  }

  private async joinLiveTick(lessonId: string, rung: ChannelRung, tick: number): Promise<Buffer> {
    const slots = (await Promise.all((await this.channels()).map((c) => this.liveSlots(c.id)))).flat();
    if (!slots.some((s) => s.lessonId === lessonId)) {
      throw new AppError('NOT_FOUND', `${lessonId} is not a live lesson on any channel`);
    }
    const now = this.now();
    const got = await this.live.list(lessonId, rung);
    if (!got || tickStartSec(tick) > now || !tickSettled(got.list, tick, now)) {
      throw new AppError('NOT_FOUND', `tick ${tick} of ${lessonId} is not on the air`);
    }
    const { from, to } = tickParts(got.list, tick);
    if (from === to) throw new AppError('NOT_FOUND', `tick ${tick} of ${lessonId} has no live picture`);
    const parts = got.list.segments.slice(from, to).map((s) => new URL(s.uri, got.base).href);
    return Buffer.concat(await Promise.all(parts.map((u) => this.live.segment(u))));
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
    const { runs } = await this.timeline(id, CHANNEL_RUNGS[0].name, this.now());
    const r = runAt(runs, tickAt(this.now()));
    return r ? { lessonId: r.lessonId } : undefined;
  }

  /** Every run of the channel up to now: recorded lessons, and live slots as they stand. */
  private async timeline(id: string, rung: ChannelRung, now: number) {
    const [recorded, live] = await Promise.all([this.runsOf(id, rung), this.liveRunsOf(id, rung, now)]);
    const runs = [...recorded, ...live.runs].sort((a, b) => a.start - b.start);
    return { runs, ...(live.pendingFrom !== undefined ? { pendingFrom: live.pendingFrom } : {}) };
  }

  /**
   * For catch-up: a live slot whose replay is ready plays the replay (the whole lesson from its go-live,
   * from the slot's start) instead of the ticks the channel carried live.
   */
  private async withReplays(id: string, rung: ChannelRung, runs: Run[]): Promise<Run[]> {
    let out = runs;
    for (const slot of await this.liveSlots(id)) {
      if (tickStartSec(slot.startTick) > this.now()) continue;
      const r = renditionFor(await this.media.lessonMedia(slot.lessonId), rung);
      if (!r) continue;
      // the slot's own runs ("starting soon", live ticks) carry its api lesson id
      const inSlot = (x: Run) =>
        x.lessonId === slot.lessonId && x.start >= slot.startTick && x.start < slot.capTick;
      const end = Math.min(slot.startTick + r.segments.length, slot.capTick);
      out = [
        ...out.filter((x) => !inSlot(x)),
        { start: slot.startTick, end, lessonId: slot.lessonId, segments: r.segments },
      ];
    }
    return out === runs ? runs : out.sort((a, b) => a.start - b.start);
  }

  /** The channel's live slots: lessons taught live with their api lesson linked. */
  private async liveSlots(id: string): Promise<LiveSlot[]> {
    const entries = await this.curriculum.programme(id);
    const tickOf = (sec: number) => Math.ceil((sec - tickStartSec(0)) / TICK_SEC);
    return entries.flatMap((e, i) => {
      if (e.recording !== 'live' || !e.vodLessonId) return [];
      const next = entries.slice(i + 1).find((x) => entrySec(x, 'start') >= entrySec(e, 'end'));
      const cap = Math.min(
        next ? tickOf(entrySec(next, 'start')) : Infinity,
        tickOf(entrySec(e, 'end') + LIVE_OVERRUN_SEC),
      );
      return [{ lessonId: e.vodLessonId, startTick: tickOf(entrySec(e, 'start')), capTick: cap }];
    });
  }

  /**
   * Whether tick k falls in a live slot whose lesson may still go on: until its teacher's end has passed
   * through the channel's delay (or the next programme begins), the catch-up of it keeps growing.
   */
  private async liveSlotOpen(id: string, k: number, now: number): Promise<boolean> {
    const slot = (await this.liveSlots(id)).find((s) => s.startTick <= k && k < s.capTick);
    if (!slot || now >= tickStartSec(slot.capTick)) return false;
    const { endedAtSec } = await this.factsSec(slot.lessonId);
    return endedAtSec === undefined || now < endedAtSec + LIVE_DELAY_SEC + SETTLE_WAIT_SEC;
  }

  private async factsSec(lessonId: string) {
    const f = await this.live.facts(lessonId);
    return {
      ...(f.startedAtMs !== undefined ? { startedAtSec: f.startedAtMs / 1000 } : {}),
      ...(f.endedAtMs !== undefined ? { endedAtSec: f.endedAtMs / 1000 } : {}),
    };
  }

  /** Live slots that have begun; one that is over for good (its cap passed, all settled) is kept. */
  private async liveRunsOf(id: string, rung: ChannelRung, now: number) {
    const slots = (await this.liveSlots(id)).filter((s) => tickStartSec(s.startTick) <= now);
    const urls = {
      live: (lessonId: string) => (k: number) =>
        `${this.o.publicUrl}/live/${encodeURIComponent(lessonId)}/${rung}/${k}.ts`,
      soon: (i: number) => `${this.o.publicUrl}/slate/live/${rung}/${slateFile(i)}`,
    };
    const parts = await Promise.all(
      slots.map(async (slot) => {
        const key = `${id}|${rung}|${slot.lessonId}|${slot.startTick}`;
        const kept = this.finishedLive.get(key);
        if (kept) return { runs: kept };
        const facts = await this.factsSec(slot.lessonId);
        const list = facts.startedAtSec !== undefined ? await this.live.list(slot.lessonId, rung) : undefined;
        const out = liveRuns(slot, facts, list?.list, now, {
          live: urls.live(slot.lessonId),
          soon: urls.soon,
        });
        // past its cap every tick the slot can hold is settled: nothing about it changes any more
        if (now >= tickStartSec(slot.capTick) + SETTLE_WAIT_SEC && out.pendingFrom === undefined) {
          this.finishedLive.set(key, out.runs);
        }
        return out;
      }),
    );
    const pending = parts.flatMap((p) => (p.pendingFrom !== undefined ? [p.pendingFrom] : []));
    return {
      runs: parts.flatMap((p) => p.runs),
      ...(pending.length > 0 ? { pendingFrom: Math.min(...pending) } : {}),
    };
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

  /** Lessons with a ready recording become runs; the others (not recorded yet) show the slate. */
  private async loadRuns(id: string, rung: ChannelRung): Promise<Run[]> {
    const entries = (await this.curriculum.programme(id)).filter((e) => e.vodLessonId);
    const items = await Promise.all(
      entries.map(async (e) => {
        // a live slot holds its place (the lesson before is cut there); its runs come from liveRunsOf
        if (e.recording === 'live')
          return { startSec: entrySec(e, 'start'), lessonId: e.lessonId, segments: [] };
        const r = renditionFor(await this.media.lessonMedia(e.vodLessonId!), rung);
        return r ? { startSec: entrySec(e, 'start'), lessonId: e.lessonId, segments: r.segments } : undefined;
      }),
    );
    return buildRuns(items.filter((x) => x !== undefined));
  }
}
