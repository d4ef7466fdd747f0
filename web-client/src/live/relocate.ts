// Where a lesson's room is now, asked when this browser's sfu node stays unreachable (issue 16): the api
// passes over the lost node while another beats. Shared by the student's and the teacher's page.
import { LiveInfo } from '@sky/contracts';
import { api } from '../api/client';

/** The sfu url to join the lesson's room at instead of `unreachable`; null once the lesson is not live. */
export async function nodeFor(lessonId: string, unreachable: string): Promise<string | null> {
  const query = new URLSearchParams({ unreachable }).toString();
  const info = await api(`/api/lessons/${encodeURIComponent(lessonId)}/live?${query}`, LiveInfo);
  return info.state === 'live' ? info.sfuUrl : null;
}
