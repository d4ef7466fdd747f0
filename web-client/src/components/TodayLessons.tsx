import { beijingToday, type GradeId, type LessonList, type ScheduleEntry } from '@sky/contracts';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { withQuery } from '../api/client';
import { CURRICULUM, EntryList, TeacherList, TermInfo } from '../api/curriculum';
import type { Loaded } from '../api/useApi';
import { useApi } from '../api/useApi';
import { useNow } from '../tv/useNow';
import { Loading } from './Bits';
import { useChannels } from './channels';
import { ON_AIR_POLL_MS, useLessonsOnAir } from './LiveNow';
import { airingNow, gradeChannel, todayAction, todayHref, type TodayAction } from './today';
import { formatDay, isSchoolDay } from './week';
import { TimetableError } from './WeekTimetable';
import { subjectColour, subjectName } from './WeekGrid';

/**
 * The grade's lessons of today (Beijing time), each leading where it can be watched: its recording on
 * demand, its live lesson, and — for the one airing now — the grade's channel on the web, which plays what
 * the TV channel plays.
 */
export function TodayLessons({ grade, onAir }: { grade: GradeId; onAir: Loaded<LessonList> }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'zh-CN';
  const now = useNow(15_000);
  const today = beijingToday(now);
  const entries = useApi(withQuery(`${CURRICULUM}/schedule`, { grade, from: today, to: today }), EntryList);
  const info = useApi(`${CURRICULUM}/term`, TermInfo);
  const teachers = useApi(withQuery(`${CURRICULUM}/teachers`, { grade }), TeacherList);
  const channels = useChannels();
  const slots = [...(entries.data ?? [])].sort((a, b) => a.slot - b.slot || a.start.localeCompare(b.start));
  // the lessons of today taught live that have ended: their replays (asked only when there are some)
  const taughtLive = slots.some((e) => e.recording === 'live' && e.vodLessonId);
  const ended = useLessonsOnAir(taughtLive ? grade : undefined, 'ended', ON_AIR_POLL_MS * 3);
  const lessons = {
    onAir: new Set((onAir.data?.items ?? []).map((l) => l.id)),
    ended: new Set((ended.data?.items ?? []).map((l) => l.id)),
  };
  const names = new Map((teachers.data ?? []).map((x) => [x.id, x.name]));
  const subjects = info.data?.subjects ?? [];
  const channel = gradeChannel(channels.all, grade);
  const channelLink = channel && `/channels/${encodeURIComponent(channel.id)}`;

  return (
    <section className="panel today" data-testid="today" aria-labelledby="today-title">
      <div className="today-head">
        <h2 id="today-title">
          {t('today.title')} <span className="muted today-date">{formatDay(today, lang)}</span>
        </h2>
        {channel && channelLink && (
          <Link className="btn btn-small today-channel" to={channelLink} data-testid="grade-channel-link">
            ▶ {t('today.channel', { name: channels.name(channel.id) })}
          </Link>
        )}
      </div>
      <p className="small muted">{t('today.note')}</p>
      {entries.loading && !entries.data && <Loading />}
      {/* no plan yet, or the curriculum service down: said quietly, as the week's timetable does */}
      {entries.error && <TimetableError error={entries.error} onRetry={entries.reload} />}
      {entries.data && slots.length === 0 && (
        <p className="empty small">
          {info.data && !isSchoolDay(info.data.term, today) ? t('today.noSchool') : t('today.noLessons')}
        </p>
      )}
      {slots.length > 0 && (
        <ol className="today-list">
          {slots.map((e) => {
            const action = todayAction(e, now, lessons);
            const onNow = airingNow(e, now);
            return (
              <TodaySlot
                key={`${e.lessonId}|${e.slot}`}
                entry={e}
                action={action}
                onNow={onNow}
                subject={subjectName(subjects, e.subject, lang)}
                colour={subjectColour(subjects, e.subject, e.grade)}
                teacher={names.get(e.teacherId) ?? ''}
                channelLink={onNow ? channelLink : undefined}
              />
            );
          })}
        </ol>
      )}
    </section>
  );
}

function TodaySlot({
  entry,
  action,
  onNow,
  subject,
  colour,
  teacher,
  channelLink,
}: {
  entry: ScheduleEntry;
  action: TodayAction;
  onNow: boolean;
  subject: string;
  colour: string;
  teacher: string;
  channelLink: string | undefined;
}) {
  const { t } = useTranslation();
  const href = todayHref(action, entry.vodLessonId);
  const label =
    action === 'soon'
      ? onNow
        ? t('today.action.soonNow')
        : t('today.action.soon', { time: entry.start })
      : t(`today.action.${action}`);
  return (
    <li
      className={`today-slot ${colour}${onNow ? ' is-now' : ''}`}
      data-testid="today-slot"
      data-lesson={entry.lessonId}
      data-action={action}
      data-now={onNow}
    >
      <div className="today-when">
        <strong>
          {entry.start}–{entry.end}
        </strong>
        {onNow && <span className="now-tag">{t('today.onNow')}</span>}
      </div>
      <div className="today-what">
        <span className="today-subject">{subject}</span>
        {href ? (
          <Link to={href} className="today-title" data-testid="today-open">
            {entry.title}
          </Link>
        ) : (
          <span className="today-title">{entry.title}</span>
        )}
        <span className="small muted">{[teacher, entry.unit].filter(Boolean).join(' · ')}</span>
      </div>
      <div className="today-actions">
        {href ? (
          <Link
            to={href}
            className={`btn btn-small${action === 'live' ? ' btn-primary btn-live' : ''}`}
            data-testid="today-watch"
          >
            {action === 'live' ? '● ' : action === 'recording' || action === 'replay' ? '▶ ' : ''}
            {label}
          </Link>
        ) : (
          <span className="small muted today-state">{label}</span>
        )}
        {channelLink && (
          <Link to={channelLink} className="btn btn-small btn-primary" data-testid="today-channel">
            ▶ {t('today.watchChannel')}
          </Link>
        )}
      </div>
    </li>
  );
}
