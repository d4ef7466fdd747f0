// Teacher studio: pick the camera and microphone, preview, go live (api, then the sfu room), share the
// screen, run the stage (raised hands → invite, mute, remove), watch viewers and the network (issue 5), and
// the whole audience: the WebRTC room, the live HLS on the web and TV boxes (issue 14).
import { Lesson, LessonAudience, LiveInfo, type LiveSource, type StageEntry } from '@sky/contracts';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { api, ApiError, freshAccessToken } from '../api/client';
import { useApi } from '../api/useApi';
import { ErrorNote, Loading, problemText } from '../components/Bits';
import { QaPanel } from '../qa/QaPanel';
import { secondsSince } from './live-offset';
import { nodeFor } from './relocate';
import { LiveError, LiveRoomClient } from './room-client';
import { networkReading, readSendSample, type NetworkReading, type SendSample } from './stats';
import { MediaTile, QualityBadge, useRoomSnapshot } from './Tiles';
import './live.css';

interface Devices {
  cameras: MediaDeviceInfo[];
  mics: MediaDeviceInfo[];
}

type Phase = 'setup' | 'starting' | 'live' | 'ending' | 'ended';

/** How often the studio asks for the audience on every platform (the beacons' own pace is 30 s). */
const AUDIENCE_REFRESH_MS = 10_000;
/** How often a studio outside the room asks whether its lesson is live or has ended. */
const STATE_REFRESH_MS = 5000;

function errorText(err: unknown, t: ReturnType<typeof useTranslation>['t']): string {
  if (err instanceof ApiError) return problemText(err, t);
  if (err instanceof Error) return err.message;
  return String(err);
}

export function TeacherStudio() {
  const { t } = useTranslation();
  const { id = '' } = useParams();
  const lesson = useApi(id ? `/api/lessons/${encodeURIComponent(id)}` : null, Lesson);
  const [devices, setDevices] = useState<Devices>({ cameras: [], mics: [] });
  const [cameraId, setCameraId] = useState('');
  const [micId, setMicId] = useState('');
  const [stream, setStream] = useState<MediaStream | null>(null);
  const [screen, setScreen] = useState<MediaStreamTrack | null>(null);
  const [phase, setPhase] = useState<Phase>('setup');
  const [problem, setProblem] = useState<string | null>(null);
  const [client, setClient] = useState<LiveRoomClient | null>(null);
  const [net, setNet] = useState<NetworkReading | null>(null);
  /** The lesson is live already (the studio was reloaded, or the browser crashed): go live resumes it. */
  const [resumable, setResumable] = useState(false);
  /** What the sfu answered to "end": the recording queued as the replay, or no recording at all. */
  const [replay, setReplay] = useState<'queued' | 'none' | null>(null);
  const snap = useRoomSnapshot(client);
  // Everyone watching, not only the WebRTC room: asked for while live, again every AUDIENCE_REFRESH_MS.
  const live = phase === 'live' || phase === 'ending';
  const audience = useApi(
    live ? `/api/lessons/${encodeURIComponent(id)}/live/audience` : null,
    LessonAudience,
  );
  const reloadAudience = audience.reload;
  useEffect(() => {
    if (!live) return;
    const timer = setInterval(reloadAudience, AUDIENCE_REFRESH_MS);
    return () => clearInterval(timer);
  }, [live, reloadAudience]);
  // The preview gets the camera whenever either is new: the camera may open before the page shows its
  // <video> (the lesson still loading), which an effect on the stream alone would miss (a black preview).
  const previewRef = useCallback(
    (el: HTMLVideoElement | null) => {
      if (el && el.srcObject !== stream) el.srcObject = stream;
    },
    [stream],
  );
  const screenRef = useRef<HTMLVideoElement>(null);

  // Where the lesson stands while this studio is not in its room, asked now and every few seconds: live
  // already (a reload mid-lesson: go live resumes it), or ended — from another tab, or by the sfu when the
  // teacher stayed away past its grace period — which the studio must then say instead of "not live".
  const inRoom = phase === 'starting' || phase === 'live' || phase === 'ending';
  useEffect(() => {
    if (inRoom || phase === 'ended') return;
    let stop = false;
    const look = () =>
      void api(`/api/lessons/${encodeURIComponent(id)}/live`, LiveInfo)
        .then((info) => {
          if (stop) return;
          if (info.state === 'ended') setPhase('ended');
          setResumable(info.state === 'live');
        })
        .catch(() => undefined);
    look();
    const timer = setInterval(look, STATE_REFRESH_MS);
    return () => {
      stop = true;
      clearInterval(timer);
    };
  }, [id, inRoom, phase]);

  // The chosen camera and microphone, previewed; switching while live swaps the tracks being sent.
  // Only the end of the lesson matters here (no camera then): another phase change must not reopen them.
  const ended = phase === 'ended';
  // a language switch mid-lesson must not reopen the devices either: the message reads the latest t
  const latestT = useRef(t);
  useEffect(() => {
    latestT.current = t;
  }, [t]);
  useEffect(() => {
    if (ended) return;
    let gone = false;
    let opened: MediaStream | null = null;
    const video: MediaTrackConstraints = {
      width: { ideal: 1280 },
      height: { ideal: 720 },
      frameRate: { ideal: 25 },
      ...(cameraId ? { deviceId: { exact: cameraId } } : {}),
    };
    const audio: MediaTrackConstraints = micId ? { deviceId: { exact: micId } } : {};
    navigator.mediaDevices
      .getUserMedia({ video, audio: micId ? audio : true })
      .then(async (s) => {
        if (gone) {
          s.getTracks().forEach((tr) => tr.stop());
          return;
        }
        opened = s;
        setStream(s);
        const all = await navigator.mediaDevices.enumerateDevices();
        setDevices({
          cameras: all.filter((d) => d.kind === 'videoinput'),
          mics: all.filter((d) => d.kind === 'audioinput'),
        });
      })
      .catch((err: unknown) => {
        const tr = latestT.current;
        setProblem(tr('live.studio.permission', { reason: errorText(err, tr) }));
      });
    return () => {
      gone = true;
      opened?.getTracks().forEach((tr) => tr.stop());
    };
  }, [cameraId, micId, ended]);

  // New devices (or the room joined) send again; a language switch must not: after the end it would
  // produce into the closed room and report "not connected".
  useEffect(() => {
    const cam = stream?.getVideoTracks()[0];
    const mic = stream?.getAudioTracks()[0];
    const fail = (err: unknown) => setProblem(errorText(err, latestT.current));
    if (client && cam) void client.produce('camera', cam).catch(fail);
    if (client && mic) void client.produce('mic', mic).catch(fail);
  }, [stream, client]);

  useEffect(() => {
    if (screenRef.current) screenRef.current.srcObject = screen ? new MediaStream([screen]) : null;
  }, [screen]);

  // Network quality from the send transport every 2 s, while the room is reached: a reading taken before
  // the connection dropped would say "good" through the whole outage.
  const connected = snap?.status === 'joined';
  useEffect(() => {
    if (!client || phase !== 'live' || !connected) return;
    let prev: SendSample | null = null;
    const timer = setInterval(() => {
      void client.sendStats().then((report) => {
        if (!report) return;
        const cur = readSendSample(report, performance.now());
        setNet(networkReading(prev, cur));
        prev = cur;
      });
    }, 2000);
    return () => {
      clearInterval(timer);
      setNet(null);
    };
  }, [client, phase, connected]);

  // Leaving the page leaves the room (the lesson stays live: the teacher may come back).
  useEffect(() => () => void client?.close(), [client]);

  const goLive = async () => {
    setProblem(null);
    setPhase('starting');
    try {
      let info: LiveInfo;
      try {
        info = await api(`/api/lessons/${encodeURIComponent(id)}/live`, LiveInfo, { method: 'POST' });
      } catch (err) {
        // already live (this teacher reloaded the studio): join the running lesson
        if (!(err instanceof ApiError) || err.status !== 409) throw err;
        info = await api(`/api/lessons/${encodeURIComponent(id)}/live`, LiveInfo);
        if (info.state !== 'live') throw err;
      }
      setResumable(true); // live on the api now: a failed join below is retried by "resume"
      // its node lost for good: the client joins on the node the api names next and sends camera, mic
      // and screen there again
      const c = new LiveRoomClient({
        sfuUrl: info.sfuUrl,
        lessonId: id,
        token: freshAccessToken,
        relocate: (lost) => nodeFor(id, lost),
      });
      c.subscribe((s) => {
        if (s.status === 'ended') setPhase('ended');
      });
      await c.start();
      setClient(c); // the effect above produces the camera and the mic
      setPhase('live');
    } catch (err) {
      // the api still said live, the sfu refuses: the lesson has just ended (the api hears of it once the
      // recording is saved) — ended, not "not live"
      if (err instanceof LiveError && err.code === 'NOT_LIVE') {
        setResumable(false);
        setPhase('ended');
        return;
      }
      setPhase('setup');
      setProblem(
        t('live.studio.failed', {
          reason: err instanceof LiveError ? `${err.code}: ${err.message}` : errorText(err, t),
        }),
      );
    }
  };

  const end = async () => {
    if (!client || !window.confirm(t('live.studio.endConfirm'))) return;
    setPhase('ending');
    try {
      const ended = await client.close({ end: true });
      setReplay(ended.recording ? 'queued' : 'none');
      stream?.getTracks().forEach((tr) => tr.stop());
      screen?.stop();
      setScreen(null);
      setPhase('ended');
    } catch (err) {
      // ended for everyone although the server reports a problem (the replay not queued): say both
      if (client.snapshot.status === 'ended') {
        stream?.getTracks().forEach((tr) => tr.stop());
        screen?.stop();
        setScreen(null);
        setPhase('ended');
      } else setPhase('live');
      setProblem(errorText(err, t));
    }
  };

  const toggleScreen = async () => {
    if (!client) return;
    if (screen) {
      screen.stop();
      setScreen(null);
      await client.stopProducing('screen');
      return;
    }
    try {
      const s = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: 15 }, audio: false });
      const track = s.getVideoTracks()[0];
      if (!track) return;
      track.addEventListener('ended', () => {
        setScreen(null);
        void client.stopProducing('screen');
      });
      setScreen(track);
      await client.produce('screen', track);
    } catch (err) {
      setProblem(errorText(err, t));
    }
  };

  const stageAct = async (event: 'stage.invite' | 'stage.remove' | 'stage.mute', userId: string) => {
    if (!client) return;
    try {
      await client.request(event, { userId });
    } catch (err) {
      setProblem(errorText(err, t));
    }
  };

  if (lesson.loading && !lesson.data) return <Loading />;
  if (lesson.error) return <ErrorNote error={lesson.error} onRetry={lesson.reload} />;
  const l = lesson.data;
  const everyone = audience.data;
  const producing = new Set<LiveSource>(snap?.producing ?? []);
  const stageVideos = snap?.remotes.filter((r) => r.kind === 'video' && r.role === 'student') ?? [];
  const voices = snap?.remotes.filter((r) => r.kind === 'audio') ?? [];
  const speakingUser = snap?.activeSpeaker?.userId ?? null;

  return (
    <section
      className="live-page"
      data-testid="live-studio"
      data-phase={phase}
      data-status={snap?.status ?? ''}
    >
      <Link to="/" className="back">
        ← {t('live.studio.back')}
      </Link>
      <div className="page-head">
        <h1>
          {t('live.studio.title')} · {l?.title}
        </h1>
        {live ? (
          <span className="live-badge" data-testid="live-badge">
            ● {t('live.studio.liveBadge')}
          </span>
        ) : phase === 'ended' ? (
          <span className="badge badge-draft" data-testid="studio-state" data-state="ended">
            {t('live.studio.endedBadge')}
          </span>
        ) : resumable ? (
          <span className="badge badge-live" data-testid="studio-state" data-state="disconnected">
            {t('live.studio.disconnectedBadge')}
          </span>
        ) : (
          <span className="badge badge-draft" data-testid="studio-state" data-state="idle">
            {t('live.studio.idleBadge')}
          </span>
        )}
      </div>
      {problem && (
        <p className="notice notice-error" role="alert" data-testid="live-problem">
          {problem}
        </p>
      )}
      {phase === 'ending' && (
        <p className="notice" data-testid="live-ending">
          {t('live.studio.endingNote')}
        </p>
      )}
      {snap?.status === 'failed' && snap.error && (
        <p className="notice notice-error" role="alert" data-testid="live-room-failed">
          {t('live.studio.failed', { reason: `${snap.error.code}: ${snap.error.message}` })}
        </p>
      )}
      {snap && (snap.status === 'recovering' || snap.status === 'reconnecting') && (
        <p className="notice" data-testid="live-recovering">
          {t('live.studio.recovering')}
        </p>
      )}
      {snap?.status === 'relocating' && (
        <p className="notice" data-testid="live-relocating" role="status">
          {t('live.studio.relocating')}
        </p>
      )}
      {phase === 'setup' && resumable && (
        <p className="notice" data-testid="studio-resume-note">
          {t('live.studio.resumeNote')}
        </p>
      )}
      {phase === 'ended' ? (
        <>
          <div className="panel notice live-ended" data-testid="live-ended">
            {replay ? (
              <span data-testid="live-replay" data-replay={replay}>
                {t(replay === 'queued' ? 'live.studio.replayQueued' : 'live.studio.noRecording')}
              </span>
            ) : (
              <span>{t('live.studio.ended')}</span>
            )}
            <Link className="btn btn-primary" to={`/lessons/${id}`}>
              {t('live.studio.lessonPage')}
            </Link>
          </div>
          {/* the questions outlive the lesson (students ask on the lesson page): answer them here */}
          <div className="live-after">
            <p className="small muted">{t('live.studio.qaAfter')}</p>
            <QaPanel lessonId={id} />
          </div>
        </>
      ) : (
        <div className="live-layout">
          <div className="live-main">
            <div className={`live-stage ${screen ? 'with-screen' : ''}`}>
              {screen && (
                <figure className="live-tile big">
                  <video ref={screenRef} autoPlay playsInline muted data-testid="studio-screen" />
                  <figcaption>
                    <span>{t('live.watch.screen')}</span>
                  </figcaption>
                </figure>
              )}
              <figure
                className={`live-tile ${screen ? 'pip' : 'big'} ${speakingUser && speakingUser === snap?.userId ? 'speaking' : ''}`}
              >
                <video ref={previewRef} autoPlay playsInline muted data-testid="studio-preview" />
                <figcaption>
                  <span>{stream ? t('live.studio.preview') : t('live.studio.previewOff')}</span>
                </figcaption>
              </figure>
            </div>
            <div className="live-controls">
              <label>
                {t('live.studio.camera')}
                <select
                  value={cameraId}
                  onChange={(e) => setCameraId(e.target.value)}
                  data-testid="studio-camera"
                >
                  {devices.cameras.length === 0 && <option value="">{t('live.studio.noDevice')}</option>}
                  {devices.cameras.map((d, i) => (
                    <option key={d.deviceId || i} value={d.deviceId}>
                      {d.label || `${t('live.studio.camera')} ${i + 1}`}
                    </option>
                  ))}
                </select>
              </label>
              <label>
                {t('live.studio.mic')}
                <select value={micId} onChange={(e) => setMicId(e.target.value)} data-testid="studio-mic">
                  {devices.mics.length === 0 && <option value="">{t('live.studio.noDevice')}</option>}
                  {devices.mics.map((d, i) => (
                    <option key={d.deviceId || i} value={d.deviceId}>
                      {d.label || `${t('live.studio.mic')} ${i + 1}`}
                    </option>
                  ))}
                </select>
              </label>
              {!live ? (
                <button
                  type="button"
                  className="btn btn-primary"
                  data-testid="studio-go-live"
                  disabled={phase === 'starting' || !stream}
                  onClick={() => void goLive()}
                >
                  {phase === 'starting'
                    ? t('live.studio.starting')
                    : `● ${t(resumable ? 'live.studio.resume' : 'live.studio.goLive')}`}
                </button>
              ) : (
                <>
                  <button
                    type="button"
                    className="btn"
                    data-testid="studio-screen-toggle"
                    aria-pressed={!!screen}
                    onClick={() => void toggleScreen()}
                  >
                    {screen ? t('live.studio.screenOff') : t('live.studio.screenOn')}
                  </button>
                  <button
                    type="button"
                    className="btn btn-danger"
                    data-testid="studio-end"
                    disabled={phase === 'ending'}
                    onClick={() => void end()}
                  >
                    {phase === 'ending' ? t('live.studio.ending') : t('live.studio.end')}
                  </button>
                </>
              )}
            </div>
            {voices.map((v) => (
              <MediaTile key={v.consumerId} client={client!} media={v} label={v.name} />
            ))}
          </div>
          <aside className="live-side">
            <div className="panel live-meters">
              <div>
                <span className="stat-label">{t('live.studio.viewers')}</span>
                <strong data-testid="studio-viewers" data-count={snap?.students ?? 0}>
                  {t('live.studio.viewerCount', { count: snap?.students ?? 0 })}
                </strong>
              </div>
              <div>
                <span className="stat-label">{t('live.studio.network')}</span>
                <QualityBadge
                  quality={!live ? 'unknown' : connected ? (net?.quality ?? 'unknown') : 'lost'}
                />
              </div>
              {live && everyone && (
                <div className="live-audience">
                  <span className="stat-label">{t('live.studio.audience')}</span>
                  <strong
                    data-testid="studio-audience"
                    data-webrtc={everyone.webrtc}
                    data-web={everyone.web}
                    data-tv={everyone.tv}
                    data-total={everyone.total}
                  >
                    {t('live.studio.audienceCount', {
                      webrtc: everyone.webrtc,
                      web: everyone.web,
                      tv: everyone.tv,
                      total: everyone.total,
                    })}
                  </strong>
                </div>
              )}
              {live && net && (
                <dl className="small muted live-net">
                  <dt>{t('live.studio.rtt')}</dt>
                  <dd>{net.rttMs !== undefined ? `${Math.round(net.rttMs)} ms` : '—'}</dd>
                  <dt>{t('live.studio.bitrate')}</dt>
                  <dd data-testid="studio-bitrate">
                    {net.bitrateKbps !== undefined ? `${Math.round(net.bitrateKbps)} kbps` : '—'}
                  </dd>
                  <dt>{t('live.studio.loss')}</dt>
                  <dd>{net.lossPct !== undefined ? `${net.lossPct.toFixed(1)} %` : '—'}</dd>
                </dl>
              )}
              {live && connected && (
                <p className="small muted">
                  {t('live.studio.sending')}:{' '}
                  {[...producing].map((s) => t(`live.studio.source.${s}`)).join(' · ')}
                </p>
              )}
            </div>
            <div className="panel" data-testid="stage-panel">
              <h2>{t('live.studio.stage')}</h2>
              {snap?.stage && snap.stage.queue.length + snap.stage.onStage.length > 0 ? (
                <ul className="live-queue">
                  {snap.stage.onStage.map((e) => (
                    <StageRow key={`s${e.userId}`} entry={e} on speaking={e.userId === speakingUser}>
                      <button
                        type="button"
                        className="btn btn-small"
                        data-testid="stage-mute"
                        disabled={e.muted}
                        onClick={() => void stageAct('stage.mute', e.userId)}
                      >
                        {t('live.studio.mute')}
                      </button>
                      <button
                        type="button"
                        className="btn btn-small"
                        data-testid="stage-remove"
                        onClick={() => void stageAct('stage.remove', e.userId)}
                      >
                        {t('live.studio.remove')}
                      </button>
                    </StageRow>
                  ))}
                  {snap.stage.queue.map((e) => (
                    <StageRow key={`q${e.userId}`} entry={e} on={false} speaking={false}>
                      <button
                        type="button"
                        className="btn btn-small btn-primary"
                        data-testid="stage-invite"
                        onClick={() => void stageAct('stage.invite', e.userId)}
                      >
                        {t('live.studio.invite')}
                      </button>
                    </StageRow>
                  ))}
                </ul>
              ) : (
                <p className="small muted">{t('live.studio.stageEmpty')}</p>
              )}
              {client && stageVideos.length > 0 && (
                <div className="live-thumbs">
                  {stageVideos.map((m) => (
                    <MediaTile
                      key={m.consumerId}
                      client={client}
                      media={m}
                      label={m.name}
                      speaking={m.userId === speakingUser}
                    />
                  ))}
                </div>
              )}
            </div>
            {/* the lesson's questions beside the class, from before going live (a reload) to the end */}
            {(live || resumable) && (
              <QaPanel lessonId={id} liveOffset={() => secondsSince(l?.live?.startedAt)} />
            )}
          </aside>
        </div>
      )}
    </section>
  );
}

function StageRow({
  entry,
  on,
  speaking,
  children,
}: {
  entry: StageEntry;
  on: boolean;
  speaking: boolean;
  children: React.ReactNode;
}) {
  const { t } = useTranslation();
  return (
    <li
      className={`live-queue-row ${speaking ? 'speaking' : ''}`}
      data-testid={on ? 'stage-on' : 'stage-queued'}
      data-user={entry.userId}
    >
      <span className="live-queue-name">
        <strong>{entry.name}</strong>
        <small className="muted">
          {on
            ? entry.muted
              ? `${t('live.studio.onStage')} · ${t('live.studio.muted')}`
              : t('live.studio.onStage')
            : t('live.studio.raised')}{' '}
          · {new Date(entry.since).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}
          {speaking && <span className="live-speaking"> · ● {t('live.studio.speaking')}</span>}
        </small>
      </span>
      <span className="live-queue-actions">{children}</span>
    </li>
  );
}
