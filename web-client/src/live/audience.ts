import type { RoomSnapshot } from './room-client';

/**
 * The class in the room, the teacher left out: the sfu's `viewerCount` counts every WebRTC seat, the
 * teaching one too (the studio itself, or the teacher a student receives). A teacher's seat is known to
 * the studio (its own) and to a student by the teacher's media; one seat per account, so one per teacher.
 */
export function classSize(snap: Pick<RoomSnapshot, 'viewerCount' | 'role' | 'userId' | 'remotes'>): number {
  const teachers = new Set(snap.remotes.filter((r) => r.role === 'teacher').map((r) => r.userId));
  if (snap.role === 'teacher' && snap.userId) teachers.add(snap.userId);
  return Math.max(0, snap.viewerCount - teachers.size);
}
