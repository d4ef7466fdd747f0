import { FaqPage } from '@sky/contracts';
import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { useApi } from '../api/useApi';
import { ErrorNote, Loading } from '../components/Bits';
import { clock } from './QaPanel';
import '../i18n/qa';

/** The lesson's answered questions, most voted first, each able to seek the replay to where it was asked. */
export function FaqList({
  lessonId,
  onSeek,
  version,
}: {
  lessonId: string;
  onSeek: (sec: number) => void;
  /** Changes when the room's answers change: the list is read again. */
  version?: string;
}) {
  const { t } = useTranslation();
  const faq = useApi(`/api/lessons/${encodeURIComponent(lessonId)}/faq`, FaqPage);
  const seen = useRef(version);
  const { reload } = faq;
  useEffect(() => {
    if (seen.current === version) return;
    seen.current = version;
    reload();
  }, [version, reload]);
  return (
    <section className="faq panel" data-testid="faq">
      <h2>{t('qa.faqTitle')}</h2>
      {faq.loading && <Loading />}
      {faq.error && <ErrorNote error={faq.error} onRetry={faq.reload} />}
      {faq.data && faq.data.items.length === 0 && <p className="muted">{t('qa.faqNone')}</p>}
      {faq.data && faq.data.items.length > 0 && (
        <ul className="faq-list">
          {faq.data.items.map((q) => (
            <li key={q.id} className="faq-item" data-testid="faq-item">
              <p className="qa-text">{q.text}</p>
              {q.answer && <p className="qa-answer">{q.answer.text}</p>}
              {!q.answer && q.answeredOnAir && (
                <span className="badge qa-badge on-air">{t('qa.answeredOnAir')}</span>
              )}
              {q.jumpToSec !== undefined && (
                <button
                  type="button"
                  className="btn btn-ghost btn-small"
                  data-testid="faq-jump"
                  onClick={() => onSeek(q.jumpToSec ?? 0)}
                >
                  {t('qa.jump', { at: clock(q.jumpToSec) })}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
