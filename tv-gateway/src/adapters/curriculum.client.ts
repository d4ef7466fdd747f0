import { Channel, PlanSubject, ScheduleEntry } from '@sky/contracts';
import { z } from 'zod';

const Programme = z.object({ channel: Channel, entries: z.array(ScheduleEntry) });
const Term = z.object({ subjects: z.array(PlanSubject) });
const TeacherName = z.object({ id: z.string(), name: z.string() });

export interface SubjectNames {
  zh: string;
  en: string;
}

/** What the gateway needs from the curriculum service. */
export interface CurriculumSource {
  channels(): Promise<Channel[]>;
  /** The channel's whole programme (a term: a few hundred lessons), sorted by date and start. */
  programme(channelId: string): Promise<ScheduleEntry[]>;
  /** Subject code → its names (Chinese first, English second). */
  subjectNames(): Promise<Map<string, SubjectNames>>;
  /** Teacher id → name. */
  teacherNames(): Promise<Map<string, string>>;
  /** Drops cached answers (a schedule change was published). */
  invalidate(): void;
}

/**
 * The curriculum service over HTTP, cached: every playlist request would otherwise ask for the same
 * programme. Entries live until a schedule change arrives on Redis, or `ttlMs` as a safety net.
 */
export function curriculumClient(baseUrl: string, ttlMs = 60_000): CurriculumSource {
  const cache = new Map<string, { at: number; value: Promise<unknown> }>();
  const cached = <T>(key: string, load: () => Promise<T>): Promise<T> => {
    const hit = cache.get(key);
    if (hit && Date.now() - hit.at < ttlMs) return hit.value as Promise<T>;
    const value = load();
    cache.set(key, { at: Date.now(), value });
    value.catch(() => cache.delete(key));
    return value;
  };
  const get = async <T>(path: string, schema: z.ZodType<T>): Promise<T> => {
    const res = await fetch(`${baseUrl}${path}`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`curriculum ${path}: HTTP ${res.status}`);
    return schema.parse(await res.json());
  };
  return {
    channels: () => cached('channels', () => get('/channels', z.array(Channel))),
    programme: (id) =>
      cached(
        `programme:${id}`,
        async () => (await get(`/channels/${encodeURIComponent(id)}/programme`, Programme)).entries,
      ),
    subjectNames: () =>
      cached(
        'subjects',
        async () => new Map((await get('/term', Term)).subjects.map((x) => [x.code, { zh: x.zh, en: x.en }])),
      ),
    teacherNames: () =>
      cached(
        'teachers',
        async () => new Map((await get('/teachers', z.array(TeacherName))).map((t) => [t.id, t.name])),
      ),
    invalidate: () => cache.clear(),
  };
}
