// Test data the browser and TV tests share: a real lesson, transcoded by the real pipeline, ready to play.
import { join } from 'node:path';
import type { AccessClaims, GradeId, Lesson, Role } from '@sky/contracts';
import { createLocalStorage } from '@sky/contracts/storage-local';
import { generateSampleVideo } from '@sky/devkit';
import type { TestApi } from '../api/test/helpers.js';
import { createFfmpeg } from '../transcoder/src/adapters/ffmpeg.js';
import { HlsService } from '../transcoder/src/services/hls.service.js';

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
