import { z } from 'zod';

/** The twelve grades of the city's curriculum, primary 1 → senior high 3. */
export const GRADE_IDS = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'j1', 'j2', 'j3', 's1', 's2', 's3'] as const;
export const GradeId = z.enum(GRADE_IDS);
export type GradeId = z.infer<typeof GradeId>;

export const STAGES = ['primary', 'junior', 'senior'] as const;
export const Stage = z.enum(STAGES);
export type Stage = z.infer<typeof Stage>;

export interface GradeInfo {
  id: GradeId;
  stage: Stage;
  /** 1-based position in the twelve-year sequence, for sorting and channel numbers. */
  order: number;
}

export const GRADES: readonly GradeInfo[] = GRADE_IDS.map((id, i) => ({
  id,
  stage: i < 6 ? 'primary' : i < 9 ? 'junior' : 'senior',
  order: i + 1,
}));

export function stageOf(grade: GradeId): Stage {
  return GRADES[GRADE_IDS.indexOf(grade)]!.stage;
}

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
