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
