import type { LessonClientEvents, LessonServerEvents, TranscodeProgress } from '@sky/contracts';
import { useEffect, useState } from 'react';
import { io, type Socket } from 'socket.io-client';
import { freshAccessToken } from './client';

/** Live transcoding progress of the given lessons (socket.io namespace /lessons). */
export function useLessonProgress(lessonIds: string[]): Record<string, TranscodeProgress> {
  const [progress, setProgress] = useState<Record<string, TranscodeProgress>>({});
  const key = [...lessonIds].sort().join(',');
  useEffect(() => {
    if (!key) return;
    const socket: Socket<LessonServerEvents, LessonClientEvents> = io('/lessons', {
      auth: (cb) => void freshAccessToken().then((token) => cb({ token: token ?? '' })),
      transports: ['websocket'],
    });
    const watch = () => {
      for (const lessonId of key.split(',')) socket.emit('lesson:watch', { lessonId }, () => undefined);
    };
    socket.on('connect', watch);
    socket.on('lesson:progress', (p) => setProgress((prev) => ({ ...prev, [p.lessonId]: p })));
    return () => {
      socket.disconnect();
    };
  }, [key]);
  return progress;
}
