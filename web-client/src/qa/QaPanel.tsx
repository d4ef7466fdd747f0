import { QA_LIMITS, type Question, type QuestionFilter } from '@sky/contracts';
import { useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import './qa.css';
import { useQaRoom, type QaRoom } from './useQaRoom';
import '../i18n/qa';

const FILTERS: readonly QuestionFilter[] = ['top', 'new', 'unanswered'];

/** mm:ss (h:mm:ss past an hour) of a playback position. */
export function clock(sec: number): string {
  const s = Math.max(0, Math.floor(sec));
  const mmss = `${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  return s >= 3600 ? `${Math.floor(s / 3600)}:${mmss}` : mmss;
}

/** The order each tab shows: pinned first, then by votes (top, unanswered) or newest first. */
function ordered(questions: Question[], filter: QuestionFilter): Question[] {
  const shown = filter === 'unanswered' ? questions.filter((q) => !q.answer && !q.answeredOnAir) : questions;
  return [...shown].sort(
    (a, b) =>
      Number(b.pinned) - Number(a.pinned) ||
      (filter === 'new'
        ? b.createdAt.localeCompare(a.createdAt)
        : b.votes - a.votes || a.createdAt.localeCompare(b.createdAt)),
  );
}

/** The lesson's Q&A room beside the player: ask, vote, and (for staff) answer, pin and hide. */
export function QaPanel({
  lessonId,
  position,
  liveOffset,
  moment,
  onAnswersChange,
}: {
  lessonId: string;
  /** The playback position to send with a question (undefined: none). */
  position?: () => number | undefined;
  /** During the live lesson: seconds since it began, sent instead (the replay starts at the same moment). */
  liveOffset?: () => number | undefined;
  /** The moment to send when it must be asked for (a TV elsewhere): instead of the two above. */
  moment?: () => Promise<{ position?: number; liveOffset?: number }>;
  /** Told whenever an answered question changes, so the page's FAQ can follow. */
  onAnswersChange?: (key: string) => void;
}) {
  const { t } = useTranslation();
  const [filter, setFilter] = useState<QuestionFilter>('top');
  const room = useQaRoom(lessonId);
  const [text, setText] = useState('');
  const [anonymous, setAnonymous] = useState(false);
  const [sending, setSending] = useState(false);

  const answeredKey = room.questions
    .filter((q) => q.answer || q.answeredOnAir)
    .map((q) => `${q.id}:${q.seq}`)
    .sort()
    .join(',');
  useEffect(() => {
    onAnswersChange?.(answeredKey);
  }, [answeredKey, onAnswersChange]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!text.trim() || sending) return;
    setSending(true);
    const at = moment ? await moment() : { position: position?.(), liveOffset: liveOffset?.() };
    const ok = await room.ask(text, { anonymous, ...at });
    setSending(false);
    if (ok) setText('');
  };

  const list = ordered(room.questions, filter);
  return (
    <aside
      className="qa-panel panel"
      data-testid="qa-panel"
      data-connected={room.connected}
      aria-label={t('qa.title')}
    >
      <h2>{t('qa.title')}</h2>
      <div className="qa-tabs" role="tablist">
        {FILTERS.map((f) => (
          <button
            key={f}
            type="button"
            role="tab"
            aria-selected={filter === f}
            className={filter === f ? 'qa-tab active' : 'qa-tab'}
            data-testid={`qa-filter-${f}`}
            onClick={() => setFilter(f)}
          >
            {t(`qa.filters.${f}`)}
          </button>
        ))}
      </div>
      <form className="qa-ask" onSubmit={(e) => void submit(e)}>
        <textarea
          data-testid="qa-ask-input"
          value={text}
          maxLength={QA_LIMITS.questionChars}
          rows={3}
          placeholder={t('qa.askPlaceholder')}
          aria-label={t('qa.askPlaceholder')}
          onChange={(e) => setText(e.target.value)}
        />
        <div className="qa-ask-row">
          <label className="inline small">
            <input type="checkbox" checked={anonymous} onChange={(e) => setAnonymous(e.target.checked)} />
            {t('qa.anonymous')}
          </label>
          <span className="muted small" data-testid="qa-ask-count">
            {text.length}/{QA_LIMITS.questionChars}
          </span>
          <button
            type="submit"
            className="btn btn-primary btn-small"
            data-testid="qa-ask-submit"
            disabled={!text.trim() || sending || !room.connected}
          >
            {t('qa.ask')}
          </button>
        </div>
      </form>
      {room.error && (
        <p className="qa-error" role="alert" data-testid="qa-error">
          {t(`qa.errors.${room.error.code}`, { defaultValue: t('qa.errors.generic') })}
          <button type="button" className="btn btn-ghost btn-small" onClick={room.clearError}>
            {t('qa.dismiss')}
          </button>
        </p>
      )}
      {list.length === 0 ? (
        <p className="muted">{t(filter === 'unanswered' ? 'qa.noneUnanswered' : 'qa.none')}</p>
      ) : (
        <ol className="qa-list">
          {list.map((q) => (
            <QuestionItem key={q.id} q={q} room={room} />
          ))}
        </ol>
      )}
    </aside>
  );
}

function QuestionItem({ q, room }: { q: Question; room: QaRoom }) {
  const { t } = useTranslation();
  const [draft, setDraft] = useState('');
  const [answering, setAnswering] = useState(false);
  const at = q.position ?? q.liveOffset;
  const sendAnswer = async (e: FormEvent) => {
    e.preventDefault();
    if (!draft.trim()) return;
    if (await room.answer(q.id, draft)) {
      setDraft('');
      setAnswering(false);
    }
  };
  return (
    <li
      className={`qa-question${q.pinned ? ' pinned' : ''}${q.hidden ? ' hidden' : ''}`}
      data-testid="qa-question"
    >
      <div className="qa-votes">
        <button
          type="button"
          className={q.votedByMe ? 'qa-upvote voted' : 'qa-upvote'}
          data-testid="qa-upvote"
          aria-pressed={q.votedByMe ?? false}
          aria-label={t(q.votedByMe ? 'qa.unvote' : 'qa.upvote')}
          onClick={() => void room.upvote(q.id)}
        >
          ▲
        </button>
        <span data-testid="qa-votes">{q.votes}</span>
      </div>
      <div className="qa-body">
        {/* plain text only: React escapes it; never rendered as HTML */}
        <p className="qa-text" data-testid="qa-text">
          {q.text}
        </p>
        <p className="muted small">
          {q.author ?? t('qa.anonymousAuthor')}
          {q.anonymous && q.author !== null && ` (${t('qa.anonymous')})`}
          {at !== undefined && ` · ${clock(at)}`}
          {q.pinned && <span className="badge qa-badge"> {t('qa.pinned')}</span>}
          {q.answeredOnAir && (
            <span className="badge qa-badge on-air" data-testid="qa-on-air">
              {t('qa.answeredOnAir')}
            </span>
          )}
          {q.hidden && <span className="badge qa-badge">{t('qa.hidden')}</span>}
        </p>
        {q.answer && (
          <div className="qa-answer" data-testid="qa-answer">
            <strong>{t('qa.answerBy', { name: q.answer.by })}</strong>
            <p>{q.answer.text}</p>
          </div>
        )}
        {room.staff && (
          <div className="qa-staff">
            {answering ? (
              <form className="qa-answer-form" onSubmit={(e) => void sendAnswer(e)}>
                <textarea
                  data-testid="qa-answer-input"
                  value={draft}
                  rows={2}
                  maxLength={1000}
                  aria-label={t('qa.answer')}
                  onChange={(e) => setDraft(e.target.value)}
                />
                <button
                  type="submit"
                  className="btn btn-primary btn-small"
                  data-testid="qa-answer-submit"
                  disabled={!draft.trim()}
                >
                  {t('qa.send')}
                </button>
                <button type="button" className="btn btn-ghost btn-small" onClick={() => setAnswering(false)}>
                  {t('qa.cancel')}
                </button>
              </form>
            ) : (
              <button
                type="button"
                className="btn btn-ghost btn-small"
                data-testid="qa-answer-open"
                onClick={() => {
                  setDraft(q.answer?.text ?? '');
                  setAnswering(true);
                }}
              >
                {t(q.answer ? 'qa.editAnswer' : 'qa.answer')}
              </button>
            )}
            <button
              type="button"
              className="btn btn-ghost btn-small"
              data-testid="qa-pin"
              onClick={() => void room.pin(q.id, !q.pinned)}
            >
              {t(q.pinned ? 'qa.unpin' : 'qa.pin')}
            </button>
            <button
              type="button"
              className="btn btn-ghost btn-small"
              data-testid="qa-on-air-toggle"
              onClick={() => void room.onAir(q.id, !q.answeredOnAir)}
            >
              {t(q.answeredOnAir ? 'qa.notOnAir' : 'qa.markOnAir')}
            </button>
            <button
              type="button"
              className="btn btn-ghost btn-small"
              data-testid="qa-hide"
              onClick={() => void room.hide(q.id, !q.hidden)}
            >
              {t(q.hidden ? 'qa.unhide' : 'qa.hide')}
            </button>
          </div>
        )}
      </div>
    </li>
  );
}
