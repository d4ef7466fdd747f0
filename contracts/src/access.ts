import type { AccessClaims } from './auth.js';

/**
 * The one owner rule of a lesson: its own teacher, or an admin. Whoever passes it may edit and delete it,
 * attach and transcode its media, teach it live (the room's teacher role), moderate its Q&A and read its
 * audience.
 * Browser-safe: the web client may use it to show owner controls; the servers enforce it.
 */
export function ownsLesson(
  actor: Pick<AccessClaims, 'sub' | 'role'>,
  lesson: { readonly teacherId: string },
): boolean {
  return actor.role === 'admin' || (actor.role === 'teacher' && actor.sub === lesson.teacherId);
}
