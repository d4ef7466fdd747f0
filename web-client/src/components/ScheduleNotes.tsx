import type { MovedLesson, RowError, ScheduleDiff, Violation } from '@sky/contracts';
import { useTranslation } from 'react-i18next';
import { formatDay } from './week';

type Where = MovedLesson['from'];

function When({ at }: { at: Where }) {
  const { t, i18n } = useTranslation();
  if (!at) return <span className="muted">{t('diff.unscheduled')}</span>;
  return (
    <span className="diff-when">
      {formatDay(at.date, i18n.resolvedLanguage ?? 'zh-CN')} {at.start}
    </span>
  );
}

/** What a repair moved: "N lessons moved", then each lesson from → to. */
export function MovedList({
  diff,
  teacherNames,
  testId = 'diff',
  heading = true,
}: {
  diff: Pick<ScheduleDiff, 'moved'>;
  teacherNames: ReadonlyMap<string, string>;
  /** `diff` for the answer to the change just made; the history's past diffs take another. */
  testId?: string;
  /** Off where the count is already said (a history entry's summary line). */
  heading?: boolean;
}) {
  const { t } = useTranslation();
  return (
    <div className="diff" data-testid={testId} {...(testId === 'diff' ? { role: 'status' } : {})}>
      {heading && (
        <p className="diff-count">
          <strong>{t('diff.count', { count: diff.moved.length })}</strong>
        </p>
      )}
      {diff.moved.length > 0 && (
        <ul className="diff-list">
          {diff.moved.map((m) => (
            <li key={m.lessonId} data-testid="diff-item" data-lesson={m.lessonId}>
              <span className="diff-title">{m.title}</span>
              <span className="muted small">
                {t(`grades.${m.grade}`)} · {teacherNames.get(m.teacherId) ?? m.teacherId}
              </span>
              <span className="diff-move">
                <When at={m.from} /> <span aria-hidden="true">→</span>
                <span className="sr-only">{t('diff.to')}</span> <When at={m.to} />
              </span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** Why a schedule cannot be made: one line per broken hard constraint, by its code. */
export function DiagnosisList({
  diagnosis,
  teacherNames,
}: {
  diagnosis: readonly Violation[];
  teacherNames: ReadonlyMap<string, string>;
}) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'zh-CN';
  return (
    <div className="diagnosis notice-error" role="alert">
      <p>
        <strong>{t('diagnosis.title', { count: diagnosis.length })}</strong>
      </p>
      <ul data-testid="diagnosis">
        {diagnosis.map((v, i) => (
          <li key={i} data-constraint={v.constraint}>
            <span className="constraint">{t(`constraints.${v.constraint}`)}</span>
            <span className="diagnosis-where">
              {[
                v.grade && t(`grades.${v.grade}`),
                v.teacherId && (teacherNames.get(v.teacherId) ?? v.teacherId),
                v.date && formatDay(v.date, lang),
              ]
                .filter(Boolean)
                .join(' · ')}
            </span>
            <span className="diagnosis-message">{v.message}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** Every unusable row of an imported file, with the file's own line and column. */
export function RowErrorTable({ rows }: { rows: readonly RowError[] }) {
  const { t } = useTranslation();
  return (
    <div className="import-errors">
      <p className="notice notice-error" role="alert">
        {t('import.rejected', { count: rows.length })}
      </p>
      <div className="table-wrap">
        <table data-testid="import-errors">
          <thead>
            <tr>
              <th>{t('import.section')}</th>
              <th>{t('import.line')}</th>
              <th>{t('import.column')}</th>
              <th>{t('import.reason')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={i} data-line={r.line}>
                <td>{t(`import.sections.${r.section}`, { defaultValue: r.section })}</td>
                <td className="num">{r.line}</td>
                <td>
                  <code>{r.column || '—'}</code>
                </td>
                <td className="wrap">{r.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
