import {
  LIVE_TV_LIST,
  LiveState,
  parseLiveTvList,
  parseMasterPlaylist,
  type LiveTvList,
  type MasterVariant,
} from '@sky/contracts';

/** A live lesson's facts as the api keeps them: when its teacher went live and ended (ms since epoch). */
export interface LiveFacts {
  startedAtMs?: number;
  endedAtMs?: number;
}

/** What the channels need to carry live lessons: the api's facts and the bridge's whole-lesson TV lists. */
export interface LiveSource {
  facts(lessonId: string): Promise<LiveFacts>;
  /** The rung's whole-lesson list (undefined before its first segment), and the URL its segments are relative to. */
  list(lessonId: string, rung: string): Promise<{ list: LiveTvList; base: string } | undefined>;
  /** A segment's bytes. */
  segment(url: string): Promise<Buffer>;
  /** The bridge's TV master of a lesson that has gone live (what each rung's encoder is set to), else undefined. */
  tvMaster(lessonId: string): Promise<MasterVariant[] | undefined>;
}

const FACTS_TTL_MS = 2000;
/** The list grows by a segment a second; every replica rereads it at most this often. */
const LIST_TTL_MS = 500;
/** Lists kept (a whole lesson is a few thousand segments): the term's live lessons on a few channels. */
const MAX_LISTS = 400;
/** A lesson not live yet has no TV master: asked again after this long. */
const MASTER_RETRY_MS = 30_000;

/**
 * Live lessons from the api over HTTP. Facts are reread every 2 s (the channel delay leaves time for every
 * replica to learn a start or an end before it matters), finished ones kept; lists every 0.5 s while
 * they grow, kept once ended.
 */
export function apiLiveSource(apiUrl: string): LiveSource {
  const facts = new Map<string, { at: number; value: Promise<LiveState | undefined> }>();
  const lists = new Map<
    string,
    { at: number; value: Promise<{ list: LiveTvList; base: string } | undefined> }
  >();
  const masters = new Map<string, { at: number; value: Promise<MasterVariant[] | undefined> }>();
  const get = (url: string) => fetch(url, { signal: AbortSignal.timeout(5000) });
  const state = (id: string): Promise<LiveState | undefined> => {
    const hit = facts.get(id);
    if (hit && Date.now() - hit.at < FACTS_TTL_MS) return hit.value;
    const value = (async () => {
      const res = await get(`${apiUrl}/api/public/lessons/${encodeURIComponent(id)}/live`);
      if (res.status === 404 || res.status === 400) return undefined;
      if (!res.ok) throw new Error(`api live ${id}: HTTP ${res.status}`);
      return LiveState.parse(await res.json());
    })();
    facts.set(id, { at: Date.now(), value });
    value.then(
      (s) => s?.state === 'ended' && facts.set(id, { at: Infinity, value }),
      () => facts.delete(id),
    );
    return value;
  };
  return {
    async facts(id) {
      const s = await state(id);
      if (!s || s.state === 'idle') return {};
      return {
        ...(s.startedAt ? { startedAtMs: Date.parse(s.startedAt) } : {}),
        ...(s.endedAt ? { endedAtMs: Date.parse(s.endedAt) } : {}),
      };
    },
    async list(id, rung) {
      const key = `${id}|${rung}`;
      const hit = lists.get(key);
      if (hit && Date.now() - hit.at < LIST_TTL_MS) return hit.value;
      const value = (async () => {
        const s = await state(id);
        if (!s || s.state === 'idle') return undefined;
        const base = new URL(`${rung}/${LIVE_TV_LIST}`, new URL(s.hls.tv, `${apiUrl}/`)).href;
        const res = await get(base);
        if (res.status === 404) return undefined;
        if (!res.ok) throw new Error(`live list ${id}/${rung}: HTTP ${res.status}`);
        return { list: parseLiveTvList(await res.text()), base };
      })();
      lists.set(key, { at: Date.now(), value });
      // ended lists are kept (Map order is insertion order): the oldest go first past the bound
      if (lists.size > MAX_LISTS) lists.delete(lists.keys().next().value!);
      value.then(
        (l) => l?.list.ended && lists.set(key, { at: Infinity, value }),
        () => lists.delete(key),
      );
      return value;
    },
    async segment(url) {
      const res = await get(url);
      if (!res.ok) throw new Error(`live segment ${url}: HTTP ${res.status}`);
      return Buffer.from(await res.arrayBuffer());
    },
    tvMaster(id) {
      // written once per lesson when it goes live: kept for good once read
      const hit = masters.get(id);
      if (hit && Date.now() - hit.at < MASTER_RETRY_MS) return hit.value;
      const value = (async () => {
        const s = await state(id);
        if (!s || s.state === 'idle') return undefined;
        const res = await get(new URL(s.hls.tv, `${apiUrl}/`).href);
        if (res.status === 404) return undefined;
        if (!res.ok) throw new Error(`live master ${id}: HTTP ${res.status}`);
        return parseMasterPlaylist(await res.text());
      })();
      masters.set(id, { at: Date.now(), value });
      if (masters.size > MAX_LISTS) masters.delete(masters.keys().next().value!);
      value.then(
        (m) => m && masters.set(id, { at: Infinity, value }),
        () => masters.delete(id),
      );
      return value;
    },
  };
}
