// Test data the browser and TV tests share: a real lesson, transcoded by the real pipeline, ready to play.
import { join } from 'node:path';
import type { AccessClaims, GradeId, Lesson, Plan, Role, StageRules } from '@sky/contracts';
import { createLocalStorage } from '@sky/contracts/storage-local';
import { generateSampleVideo } from '@sky/devkit';
import type { TestApi } from '../api/test/helpers.js';
import { createFfmpeg } from '../transcoder/src/adapters/ffmpeg.js';
import { HlsService } from '../transcoder/src/services/hls.service.js';

/** A test term from Monday 2026-11-23 to `endDate`, Monday to Friday, every stage on the same rules. */
export function testTerm(rules: StageRules, endDate = '2026-11-27'): Plan['term'] {
  return {
    name: 'test',
    startDate: '2026-11-23',
    endDate,
    weekdays: [1, 2, 3, 4, 5],
    holidays: [],
    extraSchoolDays: [],
    stages: { primary: rules, junior: rules, senior: rules },
    maxPerSubjectPerDay: 2,
  };
}

/** A term of one day, `day`, every weekday a school day (the tests built around the machine's clock). */
export function dayTerm(rules: StageRules, day: string, maxPerSubjectPerDay = 2): Plan['term'] {
  return { ...testTerm(rules, day), startDate: day, weekdays: [1, 2, 3, 4, 5, 6, 7], maxPerSubjectPerDay };
}

/** The access claims of the test api's user of `role` (as its token would carry them). */
export async function actorOf(api: TestApi, role: Role): Promise<AccessClaims> {
  const me = await api.app.http.inject({
    url: '/api/me',
    headers: { authorization: `Bearer ${api.tokens[role]}` },
  });
  const user = me.json<{ id: string; grade?: GradeId }>();
  return { sub: user.id, role, ...(user.grade ? { grade: user.grade } : {}), typ: 'access' };
}

/** A 30 s 720p lesson by the test teacher, through the real transcoder into the api's media store: ready. */
export async function addPlayableLesson(
  api: TestApi,
  meta: { title: string; grade: GradeId; subject: string },
): Promise<Lesson> {
  const lesson = await api.app.services.lessons.create(await actorOf(api, 'teacher'), meta);
  const source = `src/${lesson.id}.mp4`;
  await generateSampleVideo(join(api.mediaDir, source), { seconds: 30, width: 1280, height: 720, fps: 25 });
  const result = await new HlsService(
    createFfmpeg({ ffmpeg: 'ffmpeg', ffprobe: 'ffprobe' }),
    createLocalStorage(api.mediaDir),
    join(api.mediaDir, '.tmp'),
    'ultrafast',
  ).package(
    {
      lessonId: lesson.id,
      source,
      outputDir: `lessons/${lesson.id}/v1`,
      requestedBy: 'test',
      kind: 'upload',
    },
    'a1',
  );
  await api.app.services.lessons.applyTranscodeResult(result);
  return lesson;
}
