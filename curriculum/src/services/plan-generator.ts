import {
  beijingToday,
  GRADE_IDS,
  Plan,
  STAGES,
  stageOf,
  type Channel,
  type GradeId,
  type PlanInput,
  type PlanLesson,
  type PlanSubject,
  type RecordingStatus,
  type Stage,
  type StageRules,
  type Teacher,
} from '@sky/contracts';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';
import { dateOf, dayNumber, isoWeekday, schoolDays, weekStart } from './calendar.js';
import { GRADE_NAMES } from './catalog.js';

export interface GeneratePlanOptions {
  /** First day of the term, a Monday (ISO date). Default: Monday of the week containing `today`. */
  startDate?: string;
  /** ISO date standing for today; default: today in Beijing. */
  today?: string;
  seed?: number;
  /** Lessons in the whole plan, split exactly over the twelve grades. */
  lessons?: number;
}

export const DEFAULT_PLAN_LESSONS = 3100;
const TERM_WEEKS = 8;
const LESSONS_PER_UNIT = 8;
const LIVE_SHARE = 0.03;
const PLANNED_SHARE = 0.12;

/**
 * Above the example caps (5/6/7 a day), which cannot hold 3,100 lessons in 40 school days.
 */
const STAGE_RULES: Record<Stage, StageRules> = {
  primary: {
    slots: ['08:30', '09:20', '10:10', '11:00', '13:30', '14:20', '15:10'],
    maxDaily: 7,
    lessonMinutes: 20,
  },
  junior: {
    slots: ['08:00', '08:50', '09:40', '10:30', '11:20', '13:30', '14:20', '15:10'],
    maxDaily: 8,
    lessonMinutes: 30,
  },
  senior: {
    slots: ['08:00', '08:50', '09:40', '10:30', '11:20', '13:30', '14:20', '15:10'],
    maxDaily: 8,
    lessonMinutes: 30,
  },
};

/** Relative lesson counts per grade (×3 to keep them whole): primary 250, junior 262, senior 271⅓ of 3,100. */
const GRADE_WEIGHT: Record<Stage, number> = { primary: 750, junior: 786, senior: 814 };

interface SubjectSpec {
  code: string;
  zh: string;
  en: string;
  core?: true;
  /** Lessons per grade per week, by stage; absent = not taught in that stage. */
  quota: Partial<Record<Stage, number>>;
  /** Grades of a taught stage that do not have the subject yet (physics starts in 初二). */
  notIn?: GradeId[];
  /** Minor subjects: one teacher may take two neighbouring grades. */
  shared?: true;
  /** Curriculum strands, one per unit in turn, for lesson titles. */
  topics: string[];
}

const SUBJECTS: readonly SubjectSpec[] = [
  {
    code: 'chinese',
    zh: '语文',
    en: 'Chinese',
    core: true,
    quota: { primary: 8, junior: 5, senior: 5 },
    topics: ['识字与写字', '阅读与鉴赏', '表达与交流', '梳理与探究', '古诗文诵读'],
  },
  {
    code: 'math',
    zh: '数学',
    en: 'Mathematics',
    core: true,
    quota: { primary: 6, junior: 5, senior: 5 },
    topics: ['数与代数', '图形与几何', '统计与概率', '综合与实践'],
  },
  {
    code: 'english',
    zh: '英语',
    en: 'English',
    core: true,
    quota: { primary: 4, junior: 5, senior: 5 },
    topics: ['听说训练', '阅读理解', '词汇与语法', '写作表达'],
  },
  {
    code: 'science',
    zh: '自然',
    en: 'Science',
    quota: { primary: 2 },
    topics: ['物质科学', '生命科学', '地球与宇宙', '技术与工程'],
  },
  {
    code: 'physics',
    zh: '物理',
    en: 'Physics',
    quota: { junior: 3, senior: 3 },
    notIn: ['j1'],
    topics: ['力与运动', '声与光', '热现象', '电与磁', '实验探究'],
  },
  {
    code: 'chemistry',
    zh: '化学',
    en: 'Chemistry',
    quota: { junior: 2, senior: 3 },
    notIn: ['j1', 'j2'],
    topics: ['物质的组成', '化学反应', '溶液', '化学实验'],
  },
  {
    code: 'morality',
    zh: '道德与法治',
    en: 'Morality and Rule of Law',
    quota: { primary: 2, junior: 2 },
    topics: ['生活与成长', '规则与法治', '家国情怀', '社会参与'],
  },
  {
    code: 'politics',
    zh: '思想政治',
    en: 'Ideology and Politics',
    quota: { senior: 2 },
    topics: ['中国特色社会主义', '经济与社会', '政治与法治', '哲学与文化'],
  },
  {
    code: 'history',
    zh: '历史',
    en: 'History',
    quota: { junior: 2, senior: 2 },
    topics: ['中国古代史', '中国近现代史', '世界史', '史料研读'],
  },
  {
    code: 'geography',
    zh: '地理',
    en: 'Geography',
    quota: { junior: 2, senior: 2 },
    topics: ['地球与地图', '自然地理', '人文地理', '区域地理'],
  },
  {
    code: 'biology',
    zh: '生物',
    en: 'Biology',
    quota: { junior: 2, senior: 2 },
    topics: ['细胞', '人体健康', '遗传与进化', '生态系统'],
  },
  {
    code: 'pe',
    zh: '体育与健身',
    en: 'PE and Health',
    quota: { primary: 3, junior: 3, senior: 2 },
    shared: true,
    topics: ['居家体能', '跳绳', '广播体操', '健康教育'],
  },
  {
    code: 'music',
    zh: '音乐',
    en: 'Music',
    quota: { primary: 2, junior: 1 },
    shared: true,
    topics: ['歌曲演唱', '音乐欣赏', '节奏与乐理', '民族音乐'],
  },
  {
    code: 'art',
    zh: '美术',
    en: 'Fine Arts',
    quota: { primary: 2, junior: 1 },
    shared: true,
    topics: ['绘画', '手工制作', '欣赏评述', '设计应用'],
  },
  {
    code: 'arts',
    zh: '艺术',
    en: 'Arts',
    quota: { senior: 1 },
    shared: true,
    topics: ['音乐鉴赏', '美术鉴赏', '戏剧与影视', '舞蹈'],
  },
  {
    code: 'it',
    zh: '信息科技',
    en: 'Information Science and Technology',
    quota: { primary: 1, junior: 1 },
    shared: true,
    topics: ['数据与编码', '算法初步', '网络与安全', '人工智能初步'],
  },
  {
    code: 'infotech',
    zh: '信息技术',
    en: 'Information Technology',
    quota: { senior: 1 },
    shared: true,
    topics: ['数据与计算', '信息系统', '程序设计', '人工智能'],
  },
];

// prettier-ignore
const SURNAMES = [
  '王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周', '徐', '孙', '马', '朱', '胡', '郭', '何', '林',
  '高', '罗', '郑', '梁', '谢', '宋', '唐', '许', '韩', '冯', '邓', '曹', '彭', '曾', '沈', '陆', '蒋', '顾',
];
// prettier-ignore
const GIVEN_NAMES = [
  '伟', '芳', '敏', '静', '丽', '强', '磊', '洋', '艳', '勇', '军', '杰', '娟', '涛', '明', '超', '霞', '平',
  '建华', '晓燕', '海燕', '志强', '秀英', '丽娟', '文博', '思远', '雨晴', '佳怡', '子涵', '欣怡', '浩然',
  '国栋', '春梅', '红霞', '立新', '振宇', '晓明', '婷婷', '雪梅', '慧敏', '俊杰', '一鸣', '梦洁', '宏伟',
];

/**
 * A realistic demo plan for one term of home schooling across the city's twelve grades: 8 weeks of
 * school days, lessons split over grades and subjects by weekly quotas, a teacher per grade and subject
 * (minor subjects shared by neighbouring grades), a TV and a web channel per grade, and recordings mostly
 * ready, some still planned (ready a few school days before they would air), a few taught live.
 * Deterministic: the same options (and the same `today`) give the same plan.
 */
export function generatePlan(opts: GeneratePlanOptions = {}): Plan {
  const total = opts.lessons ?? DEFAULT_PLAN_LESSONS;
  const startDate = opts.startDate ?? weekStart(opts.today ?? beijingToday());
  if (isoWeekday(startDate) !== 1 || dateOf(dayNumber(startDate)) !== startDate) {
    throw new RangeError(`startDate must be a Monday (YYYY-MM-DD), got ${startDate}`);
  }
  if (!Number.isInteger(total) || total < GRADE_IDS.length) {
    throw new RangeError(`lessons must be a whole number of at least ${GRADE_IDS.length}, got ${total}`);
  }
  const rng = xoroshiro128plus(opts.seed ?? 1);
  const term = termOf(startDate);
  const days = schoolDays(term);

  const gradeTotals = apportion(
    total,
    GRADE_IDS.map((g) => GRADE_WEIGHT[stageOf(g)]),
  );
  const counts = new Map<GradeId, Map<string, number>>();
  GRADE_IDS.forEach((grade, gi) => {
    const stage = stageOf(grade);
    const specs = subjectsOf(grade);
    const split = apportion(
      gradeTotals[gi]!,
      specs.map((s) => s.quota[stage]!),
    );
    const rules = term.stages[stage];
    if (gradeTotals[gi]! > days.length * rules.maxDaily) {
      throw new RangeError(
        `${total} lessons do not fit: ${grade} would need more than ${rules.maxDaily} a day`,
      );
    }
    specs.forEach((s, si) => {
      if (split[si]! > days.length * term.maxPerSubjectPerDay) {
        throw new RangeError(
          `${total} lessons do not fit: ${grade} ${s.code} would need more than ${term.maxPerSubjectPerDay} a day`,
        );
      }
    });
    counts.set(grade, new Map(specs.map((s, si) => [s.code, split[si]!])));
  });

  const teachers = teachersOf(counts, rng);
  const teacherOf = new Map<string, string>();
  for (const t of teachers) for (const g of t.grades) teacherOf.set(`${g}|${t.subjects[0]!}`, t.id);

  const lessons: PlanLesson[] = [];
  /** Index of the school day each lesson would air on if its subject went at an even pace. */
  const naturalDay = new Map<string, number>();
  for (const grade of GRADE_IDS) {
    const stage = stageOf(grade);
    for (const [code, n] of counts.get(grade)!) {
      const spec = SUBJECTS.find((s) => s.code === code)!;
      for (let order = 1; order <= n; order++) {
        const unit = Math.ceil(order / LESSONS_PER_UNIT);
        const id = `${grade}-${code}-${String(order).padStart(3, '0')}`;
        lessons.push({
          id,
          title: `${spec.zh} 第${order}课 ${spec.topics[(unit - 1) % spec.topics.length]!}`,
          grade,
          subject: code,
          unit: `第${chineseNumeral(unit)}单元`,
          order,
          durationMin: term.stages[stage].lessonMinutes,
          teacherId: teacherOf.get(`${grade}|${code}`)!,
          recording: 'ready',
        });
        naturalDay.set(id, Math.floor(((order - 1) * days.length) / n));
      }
    }
  }

  // Live: the later half of junior and senior core subjects, where teachers answer questions on air.
  const core = new Set(SUBJECTS.filter((s) => s.core).map((s) => s.code));
  const liveCandidates = lessons.filter(
    (l) =>
      stageOf(l.grade) !== 'primary' &&
      core.has(l.subject) &&
      l.order > counts.get(l.grade)!.get(l.subject)! / 2,
  );
  const status = new Map<string, RecordingStatus>();
  for (const l of shuffled(liveCandidates, rng).slice(0, Math.round(total * LIVE_SHARE)))
    status.set(l.id, 'live');
  // Planned: not recorded yet; only lessons from the second week on, so there is time to record them.
  const plannedCandidates = lessons.filter((l) => !status.has(l.id) && naturalDay.get(l.id)! >= 5);
  const readyOn = new Map<string, string>();
  for (const l of shuffled(plannedCandidates, rng).slice(0, Math.round(total * PLANNED_SHARE))) {
    status.set(l.id, 'planned');
    readyOn.set(l.id, days[Math.max(0, naturalDay.get(l.id)! - uniformInt(rng, 3, 5))]!);
  }
  const withStatus = lessons.map((l): PlanLesson => {
    const recording = status.get(l.id) ?? 'ready';
    const ready = readyOn.get(l.id);
    return { ...l, recording, ...(ready === undefined ? {} : { readyOn: ready }) };
  });

  const plan: PlanInput = {
    term,
    subjects: planSubjects(),
    teachers,
    channels: channelsOf(),
    lessons: withStatus,
  };
  return Plan.parse(plan);
}

function termOf(startDate: string): Plan['term'] {
  const month = Number(startDate.slice(5, 7));
  // Spring terms start from February, autumn terms from late August.
  const season = month >= 2 && month <= 7 ? '春季' : '秋季';
  return {
    name: `${startDate.slice(0, 4)} ${season}学期 空中课堂`,
    startDate,
    endDate: dateOf(dayNumber(startDate) + 7 * TERM_WEEKS - 3),
    weekdays: [1, 2, 3, 4, 5],
    holidays: [],
    extraSchoolDays: [],
    stages: STAGE_RULES,
    maxPerSubjectPerDay: 2,
  };
}

function subjectsOf(grade: GradeId): SubjectSpec[] {
  const stage = stageOf(grade);
  return SUBJECTS.filter((s) => s.quota[stage] !== undefined && !(s.notIn ?? []).includes(grade));
}

/**
 * The contract holds one weekly quota per subject; where stages differ (语文 8 in primary, 5 later) it
 * carries the largest, and the lesson counts of each grade follow the stage's own quota.
 */
function planSubjects(): PlanSubject[] {
  return SUBJECTS.map((s) => ({
    code: s.code,
    zh: s.zh,
    en: s.en,
    stages: STAGES.filter((st) => s.quota[st] !== undefined),
    weeklyQuota: Math.max(...Object.values(s.quota)),
    core: s.core ?? false,
  }));
}

/** One teacher per grade and subject; a minor subject's teacher also takes the next grade of the stage. */
function teachersOf(counts: Map<GradeId, Map<string, number>>, rng: RandomGenerator): Teacher[] {
  const names = new Set<string>();
  const taken = new Set<string>();
  const out: Teacher[] = [];
  for (const [gi, grade] of GRADE_IDS.entries()) {
    for (const s of subjectsOf(grade)) {
      if (taken.has(`${grade}|${s.code}`) || counts.get(grade)!.get(s.code) === 0) continue;
      const grades: GradeId[] = [grade];
      const next = GRADE_IDS[gi + 1];
      // Pairs p1+p2, p3+p4, p5+p6, j1+j2, s1+s2: neighbours counted from the stage's first grade.
      const firstOfPair = GRADE_IDS.filter((g) => stageOf(g) === stageOf(grade)).indexOf(grade) % 2 === 0;
      if (
        s.shared &&
        firstOfPair &&
        next !== undefined &&
        stageOf(next) === stageOf(grade) &&
        (counts.get(next)!.get(s.code) ?? 0) > 0
      ) {
        grades.push(next);
      }
      for (const g of grades) taken.add(`${g}|${s.code}`);
      let name: string;
      do {
        name = pick(SURNAMES, rng) + pick(GIVEN_NAMES, rng);
      } while (names.has(name));
      names.add(name);
      out.push({
        id: `t${String(out.length + 1).padStart(3, '0')}`,
        name,
        subjects: [s.code],
        grades,
        unavailable: [],
      });
    }
  }
  return out;
}

function channelsOf(): Channel[] {
  return GRADE_IDS.flatMap((grade, i): Channel[] => {
    const name = GRADE_NAMES[grade];
    return [
      {
        id: `tv-${grade}`,
        kind: 'tv',
        number: i + 1,
        zh: `空中课堂 ${name.zh}`,
        en: `Sky Classroom ${name.en}`,
        grades: [grade],
      },
      {
        id: `web-${grade}`,
        kind: 'web',
        number: 101 + i,
        zh: `空中课堂 ${name.zh}（网络）`,
        en: `Sky Classroom ${name.en} (web)`,
        grades: [grade],
      },
    ];
  });
}

/** Splits `total` in proportion to integer weights, largest remainder first (ties to the earlier). */
export function apportion(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum === 0) return weights.map(() => 0);
  const shares = weights.map((w, i) => ({ i, base: Math.floor((total * w) / sum), rest: (total * w) % sum }));
  let left = total - shares.reduce((a, s) => a + s.base, 0);
  for (const s of [...shares].sort((a, b) => b.rest - a.rest || a.i - b.i)) {
    if (left === 0) break;
    s.base++;
    left--;
  }
  return shares.map((s) => s.base);
}

function pick<T>(list: readonly T[], rng: RandomGenerator): T {
  return list[uniformInt(rng, 0, list.length - 1)]!;
}

/** Fisher–Yates on a copy. */
function shuffled<T>(list: readonly T[], rng: RandomGenerator): T[] {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = uniformInt(rng, 0, i);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const DIGITS = ['', '一', '二', '三', '四', '五', '六', '七', '八', '九'];

/** 1 → 一, 10 → 十, 12 → 十二, 20 → 二十 (units of a subject stay below 100). */
export function chineseNumeral(n: number): string {
  if (n < 10) return DIGITS[n]!;
  const tens = Math.floor(n / 10);
  return `${tens === 1 ? '' : DIGITS[tens]!}十${DIGITS[n % 10]!}`;
}
