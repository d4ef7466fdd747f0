import { InboxPage as InboxPageSchema, QA_LIMITS, Question, type InboxItem } from '@sky/contracts';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, ApiError, withQuery } from '../api/client';
import { useApi } from '../api/useApi';
import { ErrorNote, Loading, problemText } from '../components/Bits';

/** The teacher's inbox: every unanswered question across their lessons, newest or most voted first; answer in place. */
export function InboxPage() {
  const { t } = useTranslation();
  const [sort, setSort] = useState<'new' | 'top'>('new');
  const inbox = useApi(withQuery('/api/qa/inbox', { sort, limit: 50 }), InboxPageSchema);
  const [answered, setAnswered] = useState<Set<string>>(new Set());
  const items = (inbox.data?.items ?? []).filter((q) => !answered.has(q.id));
  return (
    <section>
      <div className="page-head">
        <h1>{t('inbox.title')}</h1>
        <Link to="/">{t('inbox.back')}</Link>
      </div>
      <div className="chips" role="group" aria-label={t('inbox.sort')}>
        {(['new', 'top'] as const).map((s) => (
          <button key={s} type="button" className="chip" aria-pressed={sort === s} onClick={() => setSort(s)}>
            {t(`inbox.${s}`)}
          </button>
        ))}
      </div>
      {inbox.loading && !inbox.data && <Loading />}
      {inbox.error && <ErrorNote error={inbox.error} onRetry={inbox.reload} />}
      {inbox.data && items.length === 0 && <p className="empty">{t('inbox.empty')}</p>}
      <ul className="inbox" data-testid="inbox">
        {items.map((q) => (
          <InboxRow key={q.id} q={q} onAnswered={() => setAnswered((s) => new Set(s).add(q.id))} />
        ))}
      </ul>
    </section>
  );
}

function InboxRow({ q, onAnswered }: { q: InboxItem; onAnswered: () => void }) {
  const { t } = useTranslation();
  const [text, setText] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const send = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await api(`/api/qa/questions/${q.id}/answer`, Question, { method: 'POST', body: { text } });
      onAnswered();
    } catch (err) {
      setError(err instanceof ApiError ? problemText(err, t) : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <li className="inbox-item" data-testid="inbox-item">
      <div className="muted small">
        <Link to={`/lessons/${q.lessonId}`}>{q.lessonTitle}</Link> · {q.author ?? t('inbox.anonymous')} ·{' '}
        {t('inbox.votes', { count: q.votes })}
      </div>
      <p className="inbox-text">{q.text}</p>
      <form
        className="inbox-answer"
        onSubmit={(e) => {
          e.preventDefault();
          void send();
        }}
      >
        <textarea
          data-testid="inbox-answer-input"
          value={text}
          maxLength={QA_LIMITS.answerChars}
          rows={2}
          placeholder={t('inbox.answerPlaceholder')}
          onChange={(e) => setText(e.target.value)}
        />
        <button type="submit" disabled={busy || text.trim() === ''} data-testid="inbox-answer-submit">
          {t('inbox.answer')}
        </button>
      </form>
      {error && (
        <p role="alert" className="error small">
          {error}
        </p>
      )}
    </li>
  );
}
