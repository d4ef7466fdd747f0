import { GRADES, GRADE_IDS, STAGES, type GradeId, type Stage } from '@sky/contracts';
import { Schema, type Connection, type Model } from 'mongoose';
import { GRADE_NAMES, SUBJECTS } from '../services/catalog.js';

interface GradeDoc {
  _id: GradeId;
  stage: Stage;
  order: number;
  name: { zh: string; en: string };
}
interface SubjectDoc {
  _id: string;
  name: { zh: string; en: string };
  stages: Stage[];
  weeklyQuota: number;
}

const gradeSchema = new Schema<GradeDoc>({
  _id: { type: String, enum: GRADE_IDS },
  stage: { type: String, enum: STAGES, required: true },
  order: { type: Number, required: true },
  name: { zh: String, en: String },
});
const subjectSchema = new Schema<SubjectDoc>({
  _id: String,
  name: { zh: String, en: String },
  stages: [{ type: String, enum: STAGES }],
  weeklyQuota: Number,
});

export class CatalogRepository {
  private readonly grades: Model<GradeDoc>;
  private readonly subjects: Model<SubjectDoc>;
  constructor(conn: Connection) {
    this.grades = conn.model<GradeDoc>('Grade', gradeSchema);
    this.subjects = conn.model<SubjectDoc>('Subject', subjectSchema);
  }

  /** Upserts the twelve grades and the demo subjects: safe on every start. */
  async seed(): Promise<void> {
    await this.grades.bulkWrite(
      GRADES.map((g) => ({
        updateOne: {
          filter: { _id: g.id },
          update: { $set: { stage: g.stage, order: g.order, name: GRADE_NAMES[g.id] } },
          upsert: true,
        },
      })),
    );
    await this.subjects.bulkWrite(
      SUBJECTS.map((s) => ({
        updateOne: {
          filter: { _id: s.code },
          update: { $set: { name: { zh: s.zh, en: s.en }, stages: s.stages, weeklyQuota: s.weeklyQuota } },
          upsert: true,
        },
      })),
    );
  }

  async listGrades() {
    const docs = await this.grades.find().sort({ order: 1 }).lean();
    return docs.map((d) => ({ id: d._id, stage: d.stage, order: d.order, name: d.name }));
  }

  async listSubjects(stage?: Stage) {
    const docs = await this.subjects
      .find(stage ? { stages: stage } : {})
      .sort({ _id: 1 })
      .lean();
    return docs.map((d) => ({ code: d._id, name: d.name, stages: d.stages, weeklyQuota: d.weeklyQuota }));
  }
}
