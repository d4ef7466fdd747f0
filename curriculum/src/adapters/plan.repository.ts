import { Plan } from '@sky/contracts';
import { Schema, type Connection, type Model } from 'mongoose';

interface PlanDoc {
  _id: string;
  version: number;
  plan: unknown;
  updatedAt: Date;
  updatedBy: string;
}

const planSchema = new Schema<PlanDoc>(
  {
    _id: String,
    version: { type: Number, required: true },
    plan: { type: Schema.Types.Mixed, required: true },
    updatedAt: { type: Date, required: true },
    updatedBy: { type: String, required: true },
  },
  { minimize: false },
);

export interface StoredPlan {
  version: number;
  plan: Plan;
  updatedAt: Date;
}

/**
 * The term plan is one document (≈ 1 MB for 3,100 lessons): an import replaces it in one atomic write,
 * so a plan is never half-imported, and every change bumps its version (optimistic concurrency).
 */
export class PlanRepository {
  private readonly plans: Model<PlanDoc>;
  constructor(conn: Connection) {
    this.plans = conn.model<PlanDoc>('Plan', planSchema, 'plans');
  }

  async current(): Promise<StoredPlan | undefined> {
    const doc = await this.plans.findById('current').lean();
    if (!doc) return undefined;
    return { version: doc.version, plan: Plan.parse(doc.plan), updatedAt: doc.updatedAt };
  }

  /** Saves the plan if the stored version is still `expected` (0 = none yet); false when someone else won. */
  async save(plan: Plan, expected: number, by: string): Promise<boolean> {
    const update = { version: expected + 1, plan, updatedAt: new Date(), updatedBy: by };
    if (expected === 0) {
      try {
        await this.plans.create({ _id: 'current', ...update });
        return true;
      } catch (err) {
        if ((err as { code?: number }).code === 11000) return false;
        throw err;
      }
    }
    const res = await this.plans.updateOne({ _id: 'current', version: expected }, { $set: update });
    return res.modifiedCount === 1;
  }
}
