import { beijingToday, slotSpan, type Lesson, type ScheduleEntry } from '@sky/contracts';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { withQuery } from '../api/client';
import { CURRICULUM, EntryList } from '../api/curriculum';
import { useApi } from '../api/useApi';
import { useNow } from '../tv/useNow';
import { useChannels } from './channels';
import { liveSlotPhase, type LiveSlotPhase } from './live-slot';
import { fromToday } from './today';
import { addDays, dayNumber, formatDay, joinList } from './week';

/** Today and the next six days: far enough to prepare the week's live lessons, near enough to stay short. */
const DAYS_AHEAD = 6;
/** Within this of its start, an upcoming slot also counts down in minutes. */
const COUNTDOWN_MS = 60 * 60_000;

/**
 * The teacher's lessons the timetable airs live (entries linked to their api lessons), today's and the
 * coming week's, each with what can be done now: go live from 15 minutes before the slot until its end.
 */
export function ScheduledLive({ lessons }: { lessons: readonly Lesson[] }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'zh-CN';
  const now = useNow(15_000);
  const today = beijingToday(now);
  const byId = new Map(lessons.map((l) => [l.id, l]));
  // Sorted, so a reload of the lesson list that changes nothing asks for nothing new.
  const ids = [...byId.keys()].sort().join(',');
  const entries = useApi(
    ids
      ? withQuery(`${CURRICULUM}/schedule`, {
          vodLessonIds: ids,
          recording: 'live',
          // yesterday's too: its last slot may still air past midnight
          from: addDays(today, -1),
          to: addDays(today, DAYS_AHEAD),
        })
      : null,
    EntryList,
  );
  const channels = useChannels();
  const slots = fromToday(entries.data ?? [], today, now).filter(
    (e) => e.vodLessonId && byId.has(e.vodLessonId),
  );
  // The lessons below still work without the timetable: say what is missing, quietly, with a retry.
  if (entries.error)
    return (
      <p className="notice live-slots-down" role="status" data-testid="scheduled-live-down">
        <span>{t('teacher.live.unavailable')}</span>
        <button type="button" className="btn btn-small" onClick={entries.reload}>
          {t('errors.retry')}
        </button>
      </p>
    );
  if (slots.length === 0) return null;

  const dayName = (date: string) =>
    date === today
      ? t('teacher.live.today')
      : date === addDays(today, 1)
        ? t('teacher.live.tomorrow')
        : formatDay(date, lang);
  return (
    <section className="panel live-slots" data-testid="scheduled-live" aria-labelledby="scheduled-live-title">
      <h2 id="scheduled-live-title">{t('teacher.live.title')}</h2>
      <p className="small muted">{t('teacher.live.note')}</p>
      <ul>
        {slots.map((e) => {
          const lesson = byId.get(e.vodLessonId!)!;
          const phase = liveSlotPhase(e, lesson, now);
          const tv = e.channels.filter((c) => channels.get(c)?.kind === 'tv');
          const days = dayNumber(e.date) - dayNumber(today);
          return (
            <li
              key={`${e.lessonId}|${e.date}|${e.start}`}
              className={`live-slot live-slot-${phase}`}
              data-testid="live-slot"
              data-lesson={lesson.id}
              data-phase={phase}
            >
              <div className="live-slot-when">
                <strong>{dayName(e.date)}</strong>
                <span>
                  {e.start}–{e.end}
                </span>
              </div>
              <div className="live-slot-what">
                <strong>{e.title}</strong>
                <span className="small muted">
                  {tv.length > 0
                    ? t('teacher.live.channel', { name: joinList(tv.map(channels.name), lang) })
                    : t(`grades.${e.grade}`)}
                </span>
              </div>
              <div className="live-slot-action">
                <SlotAction
                  phase={phase}
                  entry={e}
                  lesson={lesson}
                  now={now}
                  // today's and tomorrow's say when; later ones count the days
                  startsAt={
                    days <= 1
                      ? t('teacher.live.startsAt', { day: dayName(e.date), time: e.start })
                      : t('teacher.live.inDays', { count: days })
                  }
                />
              </div>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

function SlotAction({
  phase,
  entry,
  lesson,
  now,
  startsAt,
}: {
  phase: LiveSlotPhase;
  entry: ScheduleEntry;
  lesson: Lesson;
  now: number;
  startsAt: string;
}) {
  const { t } = useTranslation();
  const studio = `/teacher/live/${encodeURIComponent(lesson.id)}`;
  const minutesLeft = Math.ceil((slotSpan(entry).start - now) / 60_000);
  switch (phase) {
    case 'upcoming':
      return (
        <span className="live-slot-state" data-testid="live-slot-starts">
          {startsAt}
          {minutesLeft * 60_000 <= COUNTDOWN_MS && (
            <small className="muted"> {t('teacher.live.startsIn', { count: minutesLeft })}</small>
          )}
        </span>
      );
    case 'open':
      return (
        <>
          <span className="live-slot-state">
            {minutesLeft > 0
              ? t('teacher.live.startsIn', { count: minutesLeft })
              : t('teacher.live.onNow', { end: entry.end })}
          </span>
          <Link className="btn btn-primary btn-live" to={studio} data-testid="scheduled-go-live">
            ● {t('teacher.live.goLive')}
          </Link>
        </>
      );
    case 'live':
      return (
        <Link className="btn btn-primary btn-live" to={studio} data-testid="scheduled-go-live">
          ● {t('teacher.live.backToStudio')}
        </Link>
      );
    case 'replay':
      return (
        <Link
          className="btn btn-small"
          to={`/lessons/${encodeURIComponent(lesson.id)}`}
          data-testid="live-slot-replay"
        >
          {t('teacher.live.replay')}
        </Link>
      );
    case 'processing':
    case 'ended':
    case 'missed':
      return <span className="live-slot-state">{t(`teacher.live.${phase}`)}</span>;
  }
}
