import type { Stage } from '@sky/contracts';

export { GRADE_NAMES } from '@sky/contracts';

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
