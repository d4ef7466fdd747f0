// The demo data npm start and npm run start:cluster add through the api once it runs: teacher.wang's live
// lessons of the coming week, and the plan's recorded lessons pointed at the transcoded sample.
import { existsSync, readFileSync } from 'node:fs';
import {
  beijingToday,
  slotInstant,
  type Lesson,
  type LessonList,
  type Plan,
  type ScheduleEntry,
} from '@sky/contracts';

const say = (msg: string) => console.log(`\x1b[1;34m[sky]\x1b[0m ${msg}`);

/**
 * Demo only: the generated 3,100-lesson plan has no recordings, so every ready lesson of it is pointed
 * at the sample lesson once that has been transcoded, and the schedule is rebuilt — the TV channels then
 * show the sample in each slot instead of only the slate.
 */
export async function linkDemoMedia(api: string, loginsFile: string): Promise<void> {
  try {
    const auth = await demoAuth(api, loginsFile, (l) => l.role === 'admin');
    if (!auth) return;
    let sampleId: string | undefined;
    for (let i = 0; i < 120 && !sampleId; i++) {
      const list = (await (
        await fetch(`${api}/api/lessons?status=ready&limit=1`, { headers: auth })
      ).json()) as {
        items: { id: string }[];
      };
      sampleId = list.items[0]?.id;
      if (!sampleId) await new Promise((r) => setTimeout(r, 1000));
    }
    if (!sampleId) return;
    const plan = (await (await fetch(`${api}/api/curriculum/plan`)).json()) as Plan;
    if (plan.lessons.some((l) => l.recording === 'ready' && l.vodLessonId)) return;
    for (const l of plan.lessons) if (l.recording === 'ready') l.vodLessonId = sampleId;
    if (await rescheduleDemo(api, auth, plan))
      say('demo: the plan’s recorded lessons play the sample lesson on the TV channels');
  } catch (err) {
    console.error(`[sky] demo TV media not linked: ${(err as Error).message}`);
  }
}

/** Live lessons teacher.wang teaches in the coming seven days: a handful, enough to show on her home. */
const DEMO_LIVE_LESSONS = 4;

/**
 * Demo only: the generated plan's live lessons come late in the term and none is linked to an api lesson,
 * so nobody could teach them. At every start, unless teacher.wang already has a linked live lesson in the
 * coming seven days, the next few lessons there of one plan teacher (the one teaching the plan's first live
 * lesson) become hers: each gets a draft lesson of hers, marked live and linked in the plan, and the schedule
 * is rebuilt. Her home then lists them with 开始直播 at the slot, and the grade's TV channel carries them.
 * Draft lessons are found again by their description, so a start interrupted half-way makes no duplicates.
 */
export async function linkDemoLive(api: string, loginsFile: string): Promise<void> {
  try {
    const admin = await demoAuth(api, loginsFile, (l) => l.role === 'admin');
    const wang = await demoAuth(api, loginsFile, (l) => l.username === 'teacher.wang');
    if (!admin || !wang) return;
    const get = async <T>(path: string, auth = {}) => {
      const res = await fetch(`${api}${path}`, { headers: auth });
      if (!res.ok) throw new Error(`GET ${path}: ${res.status}`);
      return (await res.json()) as T;
    };
    const mine = (await get<LessonList>('/api/lessons?mine=true&limit=100', wang)).items;
    const today = beijingToday();
    const until = new Date(Date.parse(today) + 6 * 86_400_000).toISOString().slice(0, 10);
    const linked = await get<ScheduleEntry[]>(
      `/api/curriculum/schedule?from=${today}&to=${until}&vodLessonIds=${mine.map((l) => l.id).join(',')}`,
    ).catch(() => []);
    if (mine.length > 0 && linked.some((e) => e.recording === 'live')) return;

    const plan = await get<Plan>('/api/curriculum/plan');
    const teacherId = plan.lessons.find((l) => l.recording === 'live')?.teacherId;
    if (!teacherId) return;
    const now = Date.now();
    const upcoming = (
      await get<ScheduleEntry[]>(`/api/curriculum/schedule?teacherId=${teacherId}&from=${today}&to=${until}`)
    ).filter((e) => Date.parse(slotInstant(e.date, e.end)) > now);
    // The plan's own live lessons when there are some in the coming week; the term's first weeks have none.
    const live = upcoming.filter((e) => e.recording === 'live');
    const chosen = (live.length > 0 ? live : upcoming).slice(0, DEMO_LIVE_LESSONS);
    if (chosen.length === 0) return;

    const byId = new Map(plan.lessons.map((l) => [l.id, l]));
    for (const e of chosen) {
      const lesson = byId.get(e.lessonId);
      if (!lesson) continue;
      const description = `课表直播课 ${lesson.id}：按课表时间在本年级电视频道直播。`;
      let draft: Pick<Lesson, 'id'> | undefined = mine.find(
        (l) => l.description?.startsWith(`课表直播课 ${lesson.id}：`) && l.status === 'draft' && !l.live,
      );
      if (!draft) {
        const res = await fetch(`${api}/api/lessons`, {
          method: 'POST',
          headers: { ...wang, 'content-type': 'application/json' },
          body: JSON.stringify({
            title: lesson.title,
            description,
            grade: lesson.grade,
            subject: plan.subjects.find((s) => s.code === lesson.subject)?.zh ?? lesson.subject,
            unit: lesson.unit,
          }),
        });
        if (!res.ok) throw new Error(`creating the draft of ${lesson.id}: ${res.status} ${await res.text()}`);
        draft = (await res.json()) as Lesson;
      }
      lesson.recording = 'live';
      lesson.vodLessonId = draft.id;
      delete lesson.readyOn;
    }
    if (await rescheduleDemo(api, admin, plan))
      say(
        `demo: teacher.wang teaches ${chosen.length} live lessons of the coming week (plan teacher ${teacherId})`,
      );
  } catch (err) {
    console.error(`[sky] demo live lessons not linked: ${(err as Error).message}`);
  }
}

interface DemoLogin {
  role: string;
  username: string;
  password: string;
}

/** The bearer header of a demo user from the logins file written on the first run. */
async function demoAuth(
  api: string,
  loginsFile: string,
  which: (l: DemoLogin) => boolean,
): Promise<{ authorization: string } | undefined> {
  if (!existsSync(loginsFile)) return undefined;
  const user = (JSON.parse(readFileSync(loginsFile, 'utf8')) as DemoLogin[]).find(which);
  if (!user) return undefined;
  const login = await fetch(`${api}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: user.username, password: user.password }),
  });
  if (!login.ok) return undefined;
  const { accessToken } = (await login.json()) as { accessToken: string };
  return { authorization: `Bearer ${accessToken}` };
}

/** Saves the demo's changed plan and schedules it again; true when both worked. */
async function rescheduleDemo(api: string, admin: { authorization: string }, plan: Plan): Promise<boolean> {
  const put = await fetch(`${api}/api/curriculum/plan`, {
    method: 'PUT',
    headers: { ...admin, 'content-type': 'application/json' },
    body: JSON.stringify(plan),
  });
  if (!put.ok) return false;
  const build = await fetch(`${api}/api/curriculum/schedule/build`, { method: 'POST', headers: admin });
  return build.ok;
}
