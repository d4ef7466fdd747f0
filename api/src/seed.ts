import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { AccessClaims, CreateUserBody, PublicUser } from '@sky/contracts';
import type { FastifyBaseLogger } from 'fastify';
import type { ApiApp } from './app.js';

export interface DemoLogin {
  role: PublicUser['role'];
  username: string;
  password: string;
}

const DEMO_USERS: Omit<CreateUserBody, 'password'>[] = [
  { username: 'admin', displayName: '系统管理员', role: 'admin' },
  {
    username: 'teacher.wang',
    displayName: '王老师',
    role: 'teacher',
    school: '静安区第一中心小学',
    district: '静安区',
  },
  { username: 'analyst.li', displayName: '李分析师', role: 'analyst', district: '市教委' },
  {
    username: 'student.zhang',
    displayName: '张小明',
    role: 'student',
    grade: 'p3',
    school: '静安区第一中心小学',
    district: '静安区',
  },
  { username: 'family.chen', displayName: '陈家电视', role: 'family', district: '浦东新区' },
];

/**
 * First run on an empty database: demo users of every role (random passwords, printed once and
 * written to `loginsFile`), and a sample lesson transcoded from a locally generated video.
 */
export async function seedDemo(
  app: ApiApp,
  opts: { sample: string; loginsFile?: string; logger: FastifyBaseLogger },
) {
  const logins: DemoLogin[] = [];
  const created: PublicUser[] = [];
  for (const u of DEMO_USERS) {
    const password = randomBytes(9).toString('base64url');
    created.push(await app.services.users.create({ ...u, password }));
    logins.push({ role: u.role, username: u.username, password });
  }
  const teacher = created.find((u) => u.role === 'teacher')!;
  const actor: AccessClaims = { sub: teacher.id, role: 'teacher', typ: 'access' };
  const lesson = await app.services.lessons.create(actor, {
    title: '示例课：认识钟表',
    description: '三年级数学 · 用彩条和时钟画面演示的示例课，由本机 ffmpeg 生成并转码。',
    grade: 'p3',
    subject: '数学',
  });
  await app.services.lessons.requestTranscode(actor, lesson.id, opts.sample);
  if (opts.loginsFile)
    writeFileSync(opts.loginsFile, JSON.stringify(logins, null, 2) + '\n', { mode: 0o600 });
  opts.logger.info({ lesson: lesson.id, logins }, 'demo data seeded (logins shown once)');
  return { logins, lessonId: lesson.id };
}
