// What analytics tests need to send beacons the ingest counts (issue 15): viewer ids signed with the test
// api's secret, and accounts whose profiles name the districts and schools the events carry.
import { createViewerIds } from '@sky/contracts/tokens';
import type { ApiApp } from '../src/app.js';

const viewers = createViewerIds('test-secret-that-is-at-least-32-characters');

/** The same signed viewer id for the same name (as the api issues a user's). */
export const signedViewer = (name: string): string => viewers.of(`test:${name}`);

/** One account per (district, school), so the ingest knows these places. */
export async function addPlaces(app: ApiApp, prefix: string, places: readonly [string, string][]) {
  let i = 0;
  for (const [district, school] of places) {
    await app.services.users.create({
      username: `place${++i}.${prefix}`,
      password: 'correct horse battery',
      displayName: school,
      role: 'student',
      grade: 'p3',
      district,
      school,
    });
  }
}

/** The districts and schools analytics-script.ts's sessions name. */
export const SCRIPT_PLACES: [string, string][] = ['dongcheng', 'xicheng', 'haidian'].flatMap((d) =>
  [0, 1, 2].map((k): [string, string] => [d, `${d}-${k}`]),
);

/**
 * Publishes a lesson as the transcoder's result would (ready, with its duration), without making media:
 * the ingest counts only lessons viewers can watch.
 */
export async function publishLesson(app: ApiApp, lessonId: string, durationSec: number): Promise<void> {
  await app.services.lessons.applyTranscodeResult({
    outcome: 'ready',
    lessonId,
    master: `lessons/${lessonId}/master.m3u8`,
    tvMaster: `lessons/${lessonId}/tv.m3u8`,
    durationSec,
  });
}
