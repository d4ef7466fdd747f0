import type { GradeId, Stage } from '@sky/contracts';

/** Chinese names of the twelve grades, as families and schools say them. */
export const GRADE_NAMES: Record<GradeId, { zh: string; en: string }> = {
  p1: { zh: '一年级', en: 'Primary 1' },
  p2: { zh: '二年级', en: 'Primary 2' },
  p3: { zh: '三年级', en: 'Primary 3' },
  p4: { zh: '四年级', en: 'Primary 4' },
  p5: { zh: '五年级', en: 'Primary 5' },
  p6: { zh: '六年级', en: 'Primary 6' },
  j1: { zh: '初一', en: 'Junior 1' },
  j2: { zh: '初二', en: 'Junior 2' },
  j3: { zh: '初三', en: 'Junior 3' },
  s1: { zh: '高一', en: 'Senior 1' },
  s2: { zh: '高二', en: 'Senior 2' },
  s3: { zh: '高三', en: 'Senior 3' },
};

export interface SubjectSeed {
  code: string;
  zh: string;
  en: string;
  stages: Stage[];
  /** Lessons per week per grade. */
  weeklyQuota: number;
}

/** The subjects of the demo plan; the full plan comes with the curriculum issue's generator. */
export const SUBJECTS: readonly SubjectSeed[] = [
  { code: 'chinese', zh: '语文', en: 'Chinese', stages: ['primary', 'junior', 'senior'], weeklyQuota: 5 },
  { code: 'math', zh: '数学', en: 'Mathematics', stages: ['primary', 'junior', 'senior'], weeklyQuota: 5 },
  { code: 'english', zh: '英语', en: 'English', stages: ['primary', 'junior', 'senior'], weeklyQuota: 4 },
  { code: 'science', zh: '自然', en: 'Science', stages: ['primary'], weeklyQuota: 2 },
  { code: 'physics', zh: '物理', en: 'Physics', stages: ['junior', 'senior'], weeklyQuota: 3 },
  { code: 'chemistry', zh: '化学', en: 'Chemistry', stages: ['junior', 'senior'], weeklyQuota: 2 },
  {
    code: 'pe',
    zh: '体育与健身',
    en: 'PE & Health',
    stages: ['primary', 'junior', 'senior'],
    weeklyQuota: 2,
  },
];
