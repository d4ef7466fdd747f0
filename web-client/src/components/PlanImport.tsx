import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../api/client';
import { csvPartOf, EXPORTS, importPlan, type CsvPart, type PlanImported } from '../api/curriculum';
import { ErrorNote } from './Bits';
import { RowErrorTable } from './ScheduleNotes';

type CsvChoice = CsvPart | 'auto';
const CSV_CHOICES: readonly CsvChoice[] = ['auto', 'lessons', 'teachers'];

type Outcome =
  | { kind: 'done'; file: string; saved: PlanImported }
  | { kind: 'rows'; error: ApiError }
  | { kind: 'failed'; error: ApiError }
  | { kind: 'unknownCsv'; file: string }
  | { kind: 'unknownType'; file: string };

/**
 * The plan in: one file, .json for the whole plan or .csv for its lessons or teachers (told by the
 * header unless the admin says which). An import is all or nothing; a refusal lists every bad row.
 */
export function PlanImport({ onImported }: { onImported: () => void }) {
  const { t } = useTranslation();
  const [csvChoice, setCsvChoice] = useState<CsvChoice>('auto');
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [busy, setBusy] = useState(false);
  const [inputKey, setInputKey] = useState(0);

  const upload = async (file: File) => {
    setOutcome(null);
    const name = file.name.toLowerCase();
    const text = await file.text();
    const kind = name.endsWith('.json')
      ? 'json'
      : name.endsWith('.csv')
        ? csvChoice === 'auto'
          ? csvPartOf(text)
          : csvChoice
        : undefined;
    if (!kind) {
      setOutcome({ kind: name.endsWith('.csv') ? 'unknownCsv' : 'unknownType', file: file.name });
      return;
    }
    setBusy(true);
    try {
      const saved = await importPlan(kind, text);
      setOutcome({ kind: 'done', file: file.name, saved });
      onImported();
    } catch (err) {
      const error = err instanceof ApiError ? err : new ApiError(0, 'UNKNOWN', String(err));
      setOutcome({ kind: error.rows.length > 0 ? 'rows' : 'failed', error });
    } finally {
      setBusy(false);
      // the same file, fixed, can be chosen again
      setInputKey((k) => k + 1);
    }
  };

  return (
    <section className="panel import-panel" aria-labelledby="import-title">
      <h2 id="import-title">{t('import.title')}</h2>
      <p className="hint">{t('import.hint')}</p>
      <fieldset className="choice">
        <legend>{t('import.csvIs')}</legend>
        {CSV_CHOICES.map((c) => (
          <label key={c} className="radio">
            <input
              type="radio"
              name="csv-part"
              value={c}
              checked={csvChoice === c}
              onChange={() => setCsvChoice(c)}
            />
            {t(`import.csv.${c}`)}
          </label>
        ))}
      </fieldset>
      <label className="btn btn-primary file-button" aria-disabled={busy}>
        {busy ? t('import.uploading') : t('import.choose')}
        <input
          key={inputKey}
          data-testid="import-input"
          type="file"
          accept=".json,.csv,application/json,text/csv"
          hidden
          disabled={busy}
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (file) void upload(file);
          }}
        />
      </label>
      {outcome?.kind === 'done' && (
        <p className="notice notice-ok" role="status" data-testid="import-done">
          {t('import.done', {
            file: outcome.file,
            version: outcome.saved.version,
            lessons: outcome.saved.lessons,
            teachers: outcome.saved.teachers,
            days: outcome.saved.schoolDays,
          })}
        </p>
      )}
      {outcome?.kind === 'rows' && <RowErrorTable rows={outcome.error.rows} />}
      {outcome?.kind === 'failed' && <ErrorNote error={outcome.error} />}
      {outcome?.kind === 'unknownCsv' && (
        <p className="notice notice-error" role="alert">
          {t('import.unknownCsv', { file: outcome.file })}
        </p>
      )}
      {outcome?.kind === 'unknownType' && (
        <p className="notice notice-error" role="alert">
          {t('import.unknownType', { file: outcome.file })}
        </p>
      )}
      <div className="exports">
        <span className="muted small">{t('import.export')}</span>
        {EXPORTS.map((x) => (
          <a key={x.file} className="btn btn-small" href={x.href} download={x.file}>
            {x.file}
          </a>
        ))}
      </div>
    </section>
  );
}
