/** Seconds since a live lesson began: its questions carry this, and its replay starts at that same moment. */
export function secondsSince(startedAt: string | undefined, now = Date.now()): number | undefined {
  const t0 = startedAt ? Date.parse(startedAt) : NaN;
  return Number.isFinite(t0) ? Math.max(0, (now - t0) / 1000) : undefined;
}
