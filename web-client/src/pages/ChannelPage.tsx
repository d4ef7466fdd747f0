// A grade's TV channel on the web: the tv-gateway's stitched channel (the very playlists the set-top
// boxes play, reached through the api's /api/tv for the lineup and the guide), in hls.js, beside what is
// on now and next, each programme leading to its own lesson.
import { beijingToday, GuideProgramme, TvChannel, type GuideProgramme as Programme } from '@sky/contracts';
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { viewerPlace, type BeaconContext } from '../analytics/beacons';
import { withQuery } from '../api/client';
import { useAuth } from '../auth/AuthContext';
import { CURRICULUM, TermInfo } from '../api/curriculum';
import { useApi } from '../api/useApi';
import { ErrorNote, Loading } from '../components/Bits';
import { useChannels } from '../components/channels';
import { subjectName } from '../components/WeekGrid';
import { CHANNEL_HLS_CONFIG } from '../live/hls-config';
import { LiveHls } from '../live/LiveHls';
import { beijing, channelProgrammes, nowAndNext, timeRange, viewedLessonId } from '../tv/schedule';
import { useNow } from '../tv/useNow';
import '../live/live.css';

const Lineup = TvChannel.array();
const Guide = GuideProgramme.array();
/** The guide's live flags move with the clock (the gateway caches it for 30 s). */
const GUIDE_REFRESH_MS = 30_000;

export function ChannelPage() {
  const { t } = useTranslation();
  const { id = '' } = useParams();
  const lineup = useApi('/api/tv/api/channels', Lineup);
  const guide = useApi(id ? withQuery('/api/tv/api/guide', { channel: id }) : null, Guide);
  const names = useChannels();
  // subject names in the reader's language (the guide carries the Chinese one)
  const subjects = useApi(`${CURRICULUM}/term`, TermInfo).data?.subjects;
  const now = useNow(5000);
  const { reload } = guide;
  useEffect(() => {
    const timer = setInterval(reload, GUIDE_REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload]);

  const channel = lineup.data?.find((c) => c.id === id);
  const list = channelProgrammes(guide.data ?? [], id);
  const { now: onNow, next } = nowAndNext(list, now);
  // the rest of today's programme (Beijing time) after the next one
  const today = beijingToday(now);
  const later = next
    ? list.filter((p) => Date.parse(p.start) > Date.parse(next.start) && beijing(p.start).date === today)
    : [];
  const title = names.get(id) ? names.name(id) : (channel?.name ?? id);
  // Viewing beacons as the TV counts a channel: the programme on air (none on the slate), live, with the
  // viewer's district and school; the next programme is a new session.
  const { user } = useAuth();
  const beacon: BeaconContext | undefined = onNow && {
    lessonId: viewedLessonId(onNow),
    platform: 'web',
    live: true,
    grade: onNow.grade,
    subject: onNow.subject,
    ...viewerPlace(user),
  };

  return (
    <section className="live-page channel-page" data-testid="channel-page" data-channel={id}>
      <Link to="/" className="back">
        ← {t('channel.back')}
      </Link>
      <div className="page-head">
        <h1>{title}</h1>
        <span className="live-badge">● {t('channel.badge')}</span>
      </div>
      {lineup.loading && !lineup.data && <Loading />}
      {lineup.error && <ErrorNote error={lineup.error} onRetry={lineup.reload} />}
      {lineup.data && !channel && <p className="notice">{t('channel.notFound')}</p>}
      {channel && (
        <div className="live-layout">
          <div className="live-main">
            <LiveHls
              src={channel.url}
              config={CHANNEL_HLS_CONFIG}
              beacon={beacon}
              testId="channel-video"
              waitingText={t('channel.connecting')}
            />
            <p className="small muted">{t('channel.note')}</p>
          </div>
          <aside className="live-side">
            <div className="panel channel-guide" data-testid="channel-now">
              <h2>{t('channel.onNow')}</h2>
              {onNow ? (
                <ProgrammeCard p={onNow} subjects={subjects} now />
              ) : (
                <p className="muted small">{t('channel.nothing')}</p>
              )}
              {next && (
                <>
                  <h3 className="channel-next">{t('channel.next')}</h3>
                  <ProgrammeCard p={next} subjects={subjects} />
                </>
              )}
              {later.length > 0 && (
                <>
                  <h3 className="channel-next">{t('channel.later')}</h3>
                  <ul className="channel-later">
                    {later.slice(0, 6).map((p) => (
                      <li key={`${p.lessonId}|${p.start}`}>
                        <span className="muted">{timeRange(p)}</span> {p.title}
                      </li>
                    ))}
                  </ul>
                </>
              )}
            </div>
          </aside>
        </div>
      )}
    </section>
  );
}

/** One programme: when, what, who, and the way to its lesson (its recording, or its live class). */
function ProgrammeCard({
  p,
  subjects,
  now = false,
}: {
  p: Programme;
  subjects: TermInfo['subjects'] | undefined;
  now?: boolean;
}) {
  const { t, i18n } = useTranslation();
  const subject = subjects
    ? subjectName(subjects, p.subject, i18n.resolvedLanguage ?? 'zh-CN')
    : (p.subjectName ?? p.subject);
  const vod = p.vodLessonId && encodeURIComponent(p.vodLessonId);
  return (
    <div
      className="channel-programme"
      data-testid={now ? 'channel-on-now' : 'channel-next'}
      data-lesson={p.lessonId}
    >
      <span className="small muted">
        {timeRange(p)} · {subject}
        {p.taughtLive && <span className="badge badge-live">{t('channel.taughtLive')}</span>}
      </span>
      <strong>{p.title}</strong>
      {(p.teacher ?? p.unit) && (
        <span className="small muted">{[p.teacher, p.unit].filter(Boolean).join(' · ')}</span>
      )}
      {vod &&
        (p.taughtLive ? (
          now && (
            <Link className="btn btn-small btn-primary" to={`/live/${vod}`} data-testid="channel-join-live">
              {t('channel.joinLive')}
            </Link>
          )
        ) : (
          <Link className="btn btn-small" to={`/lessons/${vod}`} data-testid="channel-recording">
            ▶ {t('channel.watchRecording')}
          </Link>
        ))}
    </div>
  );
}
