// What beacons may name, as the api's data and the curriculum say it: lessons that can be watched, the
// curriculum plan's lessons, and the districts and schools of accounts' profiles.
import { Types, type Connection } from 'mongoose';
import { z } from 'zod';

/** The ids of the curriculum's current plan lessons; rejects when the curriculum cannot be asked. */
export type PlanLessonSource = () => Promise<ReadonlySet<string>>;

/** The plan lessons that air an api lesson (their vod_lesson_id); rejects when the curriculum cannot be asked. */
export type PlanLinkSource = (apiLessonId: string) => Promise<readonly string[]>;

const PlanLessons = z.object({
  lessons: z.array(z.object({ id: z.string(), vodLessonId: z.string().optional() })),
});
type PlanLessons = z.infer<typeof PlanLessons>['lessons'];

/** GET <curriculum>/plan (public), re-read only when its ETag changed; no plan yet is an empty one. */
function curriculumPlan(curriculumUrl: string): () => Promise<PlanLessons> {
  const url = `${curriculumUrl.replace(/\/$/, '')}/plan`;
  let etag: string | undefined;
  let lessons: PlanLessons = [];
  return async () => {
    const res = await fetch(url, {
      headers: etag ? { 'if-none-match': etag } : {},
      signal: AbortSignal.timeout(5000),
    });
    if (res.status === 304) return lessons;
    if (res.status === 404) return (lessons = []); // no plan yet
    if (!res.ok) throw new Error(`curriculum plan: HTTP ${res.status}`);
    lessons = PlanLessons.parse(await res.json()).lessons;
    etag = res.headers.get('etag') ?? undefined;
    return lessons;
  };
}

export function curriculumPlanLessons(curriculumUrl: string): PlanLessonSource {
  const plan = curriculumPlan(curriculumUrl);
  return async () => new Set((await plan()).map((l) => l.id));
}

export function curriculumPlanLinks(curriculumUrl: string): PlanLinkSource {
  const plan = curriculumPlan(curriculumUrl);
  return async (apiLessonId) => (await plan()).filter((l) => l.vodLessonId === apiLessonId).map((l) => l.id);
}

/** The api's own lessons and accounts, read for the beacon ingest's checks. */
export class AnalyticsCatalogRepository {
  constructor(private readonly conn: Connection) {}

  /** Of `ids`, the api lessons a viewer can watch: published (transcoded, ready) or taught live. */
  async watchableLessons(ids: readonly string[]): Promise<Set<string>> {
    const oids = ids.filter((id) => /^[a-f0-9]{24}$/.test(id)).map((id) => new Types.ObjectId(id));
    if (oids.length === 0) return new Set();
    const docs = await this.conn
      .collection('lessons')
      .find(
        { _id: { $in: oids }, $or: [{ status: 'ready' }, { 'live.state': { $exists: true } }] },
        { projection: { _id: 1 } },
      )
      .toArray();
    return new Set(docs.map((d) => String(d._id)));
  }

  /** Every district and school some account's profile names. */
  async places(): Promise<{ districts: Set<string>; schools: Set<string> }> {
    const users = this.conn.collection('users');
    const [districts, schools] = await Promise.all([users.distinct('district'), users.distinct('school')]);
    const strings = (xs: unknown[]) => new Set(xs.filter((x): x is string => typeof x === 'string'));
    return { districts: strings(districts), schools: strings(schools) };
  }
}
