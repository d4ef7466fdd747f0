// Which lessons and places beacons may name, cached: the ingest asks for every batch.
import { AppError } from '@sky/contracts';
import type { AnalyticsCatalogRepository, PlanLessonSource } from '../adapters/analytics.catalog.js';

/** How long an answer is kept: a lesson known, a lesson unknown (it may be published any moment). */
const KNOWN_MS = 5 * 60_000;
const UNKNOWN_MS = 15_000;
/** The plan and the places are read again at most this often, and when a name is missing after this. */
const REFRESH_MS = 60_000;
const MISS_REFRESH_MS = 10_000;

export class AnalyticsCatalog {
  private readonly lessons = new Map<string, { known: boolean; until: number }>();
  private plan: { ids: ReadonlySet<string>; at: number } | undefined;
  private placesRead: { districts: Set<string>; schools: Set<string>; at: number } | undefined;

  constructor(
    private readonly repo: Pick<AnalyticsCatalogRepository, 'watchableLessons' | 'places'>,
    private readonly planLessons: PlanLessonSource,
    private readonly now: () => number = Date.now,
  ) {}

  /** Of `ids`, those no viewer can be watching: no such api lesson (or not published/live), not in the plan. */
  async unknownLessons(ids: ReadonlySet<string>): Promise<Set<string>> {
    const now = this.now();
    const ask = [...ids].filter((id) => (this.lessons.get(id)?.until ?? 0) < now);
    if (ask.length > 0) {
      const watchable = await this.repo.watchableLessons(ask);
      const rest = ask.filter((id) => !watchable.has(id));
      const plan = rest.length > 0 ? await this.planIds(rest) : new Set<string>();
      if (this.lessons.size > 100_000) this.lessons.clear();
      for (const id of ask) {
        const known = watchable.has(id) || plan.has(id);
        this.lessons.set(id, { known, until: now + (known ? KNOWN_MS : UNKNOWN_MS) });
      }
    }
    return new Set([...ids].filter((id) => this.lessons.get(id)?.known !== true));
  }

  /** Whether some account's profile names this district / school. */
  async place(kind: 'district' | 'school', names: ReadonlySet<string>): Promise<Set<string>> {
    const now = this.now();
    const missing = (p: { districts: Set<string>; schools: Set<string> }) =>
      [...names].filter((n) => !(kind === 'district' ? p.districts : p.schools).has(n));
    let p = this.placesRead;
    if (!p || now - p.at > REFRESH_MS || (missing(p).length > 0 && now - p.at > MISS_REFRESH_MS)) {
      p = { ...(await this.repo.places()), at: now };
      this.placesRead = p;
    }
    return new Set(missing(p));
  }

  private async planIds(wanted: string[]): Promise<ReadonlySet<string>> {
    const now = this.now();
    const p = this.plan;
    const stale =
      !p || now - p.at > REFRESH_MS || (wanted.some((id) => !p.ids.has(id)) && now - p.at > MISS_REFRESH_MS);
    if (!stale) return p.ids;
    try {
      const ids = await this.planLessons();
      this.plan = { ids, at: now };
      return ids;
    } catch {
      if (p) return p.ids; // the last plan read, while the curriculum is away
      throw new AppError(
        'DEPENDENCY_DOWN',
        'the curriculum cannot be asked about this lesson; retry shortly',
      );
    }
  }
}
