// Student live page: WebRTC in the interactive class, HLS otherwise (issue 5). The room may be full
// (ROOM_FULL) or the media path may fail (ICE/DTLS, a timeout): the page then plays the live HLS stream.
import { Lesson, LiveInfo } from '@sky/contracts';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { viewerPlace, type BeaconContext } from '../analytics/beacons';
import { api, freshAccessToken } from '../api/client';
import { useApi } from '../api/useApi';
import { useAuth } from '../auth/AuthContext';
import { ErrorNote, Loading } from '../components/Bits';
import { FullscreenButton, VolumeControl } from '../components/MediaControls';
import { QaPanel } from '../qa/QaPanel';
import { LiveHls } from './LiveHls';
import { secondsSince } from './live-offset';
import { nodeFor } from './relocate';
import { LiveError, LiveRoomClient } from './room-client';
import { MediaTile, useRoomSnapshot } from './Tiles';
import './live.css';

/** 'recheck': the sfu said NOT_LIVE while the api still said live (the lesson is just ending): ask again shortly. */
type Mode = 'loading' | 'recheck' | 'idle' | 'webrtc' | 'hls' | 'ended';

export function LiveWatch() {
  const { t } = useTranslation();
  const { id = '' } = useParams();
  const { user } = useAuth();
  const lesson = useApi(id ? `/api/lessons/${encodeURIComponent(id)}` : null, Lesson);
  const [info, setInfo] = useState<LiveInfo | null>(null);
  const [mode, setMode] = useState<Mode>('loading');
  const [fallback, setFallback] = useState<'full' | 'failed' | null>(null);
  const [client, setClient] = useState<LiveRoomClient | null>(null);
  const [error, setError] = useState<string | null>(null);
  const snap = useRoomSnapshot(client);
  const modeRef = useRef(mode);
  useEffect(() => {
    modeRef.current = mode;
  }, [mode]);

  // Where the lesson stands: poll until it is live; in the large class, poll to learn that it ended.
  const inClass = mode === 'webrtc';
  useEffect(() => {
    let stop = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const look = async () => {
      try {
        const next = await api(`/api/lessons/${encodeURIComponent(id)}/live`, LiveInfo);
        if (stop) return;
        setInfo(next);
        setError(null);
        const m = modeRef.current;
        if (next.state === 'ended') setMode('ended');
        else if (next.state === 'idle') setMode('idle');
        else if (m === 'loading' || m === 'idle' || m === 'recheck') setMode('webrtc');
      } catch (err) {
        if (!stop) setError(err instanceof Error ? err.message : String(err));
      }
      if (!stop && modeRef.current !== 'ended' && modeRef.current !== 'webrtc')
        timer = setTimeout(() => void look(), 5000);
    };
    if (modeRef.current === 'recheck') timer = setTimeout(() => void look(), 2000);
    else void look();
    return () => {
      stop = true;
      if (timer) clearTimeout(timer);
    };
  }, [id, inClass]);

  // Before the teacher goes live a student may not read the lesson (a draft): read it once it is live.
  const onAir = mode === 'webrtc' || mode === 'hls';
  const { reload: reloadLesson } = lesson;
  const unreadable = lesson.error?.code === 'NOT_FOUND';
  useEffect(() => {
    if (onAir && unreadable) reloadLesson();
  }, [onAir, unreadable, reloadLesson]);

  // The interactive class: join over WebRTC; on ROOM_FULL or a failed media path, the large class.
  const sfuUrl = info?.sfuUrl;
  useEffect(() => {
    if (mode !== 'webrtc' || !sfuUrl) return;
    // a node that stays away: the same client joins the room on the node the api names next, so the
    // page (the Q&A, a raised hand's place in the queue on the server aside) stays as it is
    const c = new LiveRoomClient({
      sfuUrl,
      lessonId: id,
      token: freshAccessToken,
      relocate: (lost) => nodeFor(id, lost),
    });
    let gone = false;
    const toHls = (why: 'full' | 'failed') => {
      if (gone) return;
      setFallback(why);
      setMode('hls');
    };
    const off = c.subscribe((s) => {
      if (s.status === 'ended') setMode('ended');
      if (s.status !== 'failed') return;
      // a re-join after a reconnect can meet a full room or a lesson that has just ended
      if (s.error?.code === 'ROOM_FULL') toHls('full');
      else if (s.error?.code === 'NOT_LIVE') setMode('recheck');
      else toHls('failed');
    });
    // the room client is the external system this effect opens; the page renders its snapshots
    // eslint-disable-next-line react-hooks/set-state-in-effect
    setClient(c);
    c.start().catch((err: unknown) => {
      const code = err instanceof LiveError ? err.code : 'INTERNAL';
      if (code === 'ROOM_FULL') toHls('full');
      else if (code === 'NOT_LIVE') setMode('recheck');
      else toHls('failed');
    });
    return () => {
      gone = true;
      off();
      setClient(null);
      void c.close();
    };
  }, [mode, sfuUrl, id]);

  const title = lesson.data?.title ?? t('live.watch.title');
  return (
    <section className="live-page" data-testid="live-watch" data-mode={mode}>
      <Link to={`/lessons/${id}`} className="back">
        ← {t('lesson.back')}
      </Link>
      <div className="page-head">
        <h1>{title}</h1>
        {(mode === 'webrtc' || mode === 'hls') && (
          <span className="live-badge">● {t('live.studio.liveBadge')}</span>
        )}
        {mode === 'webrtc' && <span className="muted live-mode">{t('live.watch.modeWebrtc')}</span>}
        {mode === 'hls' && (
          <span className="muted live-mode" data-testid="live-mode-hls">
            {t('live.watch.modeHls')}
          </span>
        )}
      </div>
      {/* before go-live and after the end a student may not read the lesson (a draft, a replay not ready
          yet): the waiting and ended notices say enough */}
      {lesson.error && mode !== 'ended' && !(unreadable && mode === 'idle') && (
        <ErrorNote error={lesson.error} onRetry={lesson.reload} />
      )}
      {error && <p className="notice notice-error">{error}</p>}
      {(mode === 'loading' || mode === 'recheck') && <Loading />}
      {mode === 'idle' && (
        <div className="player-placeholder" data-testid="live-idle">
          {t('live.watch.notLive')}
        </div>
      )}
      {mode === 'ended' && <Ended lessonId={id} />}
      {mode === 'hls' && info && (
        <div className="live-layout">
          <div className="live-main">
            {fallback && (
              <p className="notice" data-testid="live-fallback" data-reason={fallback}>
                {t(fallback === 'full' ? 'live.watch.fallbackFull' : 'live.watch.fallbackFailed')}
              </p>
            )}
            <LiveHls
              src={info.hls.web}
              beacon={{
                lessonId: id,
                platform: 'web',
                live: true,
                ...lessonDims(lesson.data),
                ...viewerPlace(user),
              }}
            />
          </div>
          <div className="live-side">
            <QaPanel lessonId={id} liveOffset={() => secondsSince(info.startedAt)} />
          </div>
        </div>
      )}
      {mode === 'webrtc' && client && snap && (
        <Interactive
          client={client}
          beacon={{
            lessonId: id,
            platform: 'live-webrtc',
            live: true,
            ...lessonDims(lesson.data),
            ...viewerPlace(user),
          }}
          qa={<QaPanel lessonId={id} liveOffset={() => secondsSince(info?.startedAt)} />}
        />
      )}
    </section>
  );
}

/** The lesson's grade and subject for the viewing beacons. */
function lessonDims(l: Lesson | undefined): Pick<BeaconContext, 'grade' | 'subject'> {
  return l ? { grade: l.grade, subject: l.subject } : {};
}

function Ended({ lessonId }: { lessonId: string }) {
  const { t } = useTranslation();
  return (
    <div className="panel notice live-ended" data-testid="live-ended">
      <span>{t('live.watch.ended')}</span>
      <Link className="btn btn-primary" to={`/lessons/${lessonId}`}>
        {t('live.watch.toLesson')}
      </Link>
    </div>
  );
}

/** The interactive class: the teacher's camera and screen, voices, raised hand and the stage. */
function Interactive({
  client,
  beacon,
  qa,
}: {
  client: LiveRoomClient;
  beacon: BeaconContext;
  /** The lesson's Q&A, beside the stage. */
  qa: ReactNode;
}) {
  const { t } = useTranslation();
  const snap = useRoomSnapshot(client)!;
  const [local, setLocal] = useState<MediaStream | null>(null);
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<string | null>(null);
  const previewRef = useRef<HTMLVideoElement>(null);
  const stageRef = useRef<HTMLDivElement>(null);
  const mainRef = useRef<HTMLDivElement>(null);
  const [sound, setSound] = useState({ volume: 1, muted: false });

  const me = snap.userId;
  const inQueue = !!snap.stage?.queue.some((e) => e.userId === me);
  const onStage = snap.invited;
  const teacherCam = snap.remotes.find(
    (r) => r.role === 'teacher' && r.kind === 'video' && r.source === 'camera',
  );
  const screen = snap.remotes.find((r) => r.kind === 'video' && r.source === 'screen');
  const classmates = snap.remotes.filter((r) => r.role === 'student' && r.kind === 'video');
  const voices = snap.remotes.filter((r) => r.kind === 'audio');
  const speaking = (userId: string) => snap.activeSpeaker?.userId === userId;
  // the class's voices are <audio> elements of their own (the pictures are muted): the volume is theirs
  const voiceIds = voices.map((v) => v.consumerId).join();
  useEffect(() => {
    for (const a of mainRef.current?.querySelectorAll('audio') ?? []) {
      a.volume = sound.volume;
      a.muted = sound.muted;
    }
  }, [sound, voiceIds]);

  // invited: send mic and camera; off the stage again: stop them
  useEffect(() => {
    if (!onStage) return;
    let stream: MediaStream | null = null;
    let gone = false;
    void navigator.mediaDevices
      .getUserMedia({ audio: true, video: { width: 640, height: 360 } })
      .then(async (s) => {
        stream = s;
        if (gone) {
          s.getTracks().forEach((tr) => tr.stop());
          return;
        }
        setLocal(s);
        const mic = s.getAudioTracks()[0];
        const cam = s.getVideoTracks()[0];
        if (mic) await client.produce('mic', mic);
        if (cam) await client.produce('camera', cam);
      })
      .catch((err: unknown) => setNote(t('live.studio.permission', { reason: String(err) })));
    return () => {
      gone = true;
      stream?.getTracks().forEach((tr) => tr.stop());
      setLocal(null);
      void client.stopProducing('mic').catch(() => undefined);
      void client.stopProducing('camera').catch(() => undefined);
    };
  }, [onStage, client, t]);

  useEffect(() => {
    if (previewRef.current) previewRef.current.srcObject = local;
  }, [local]);

  const hand = async (up: boolean) => {
    setBusy(true);
    try {
      await client.request(up ? 'stage.raiseHand' : 'stage.lowerHand', {});
    } catch (err) {
      setNote(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  const status = snap.status;
  return (
    <div
      className="live-layout"
      data-testid="live-interactive"
      data-status={status}
      data-recoveries={snap.recoveries}
      data-relocations={snap.relocations}
    >
      <div className="live-main" ref={mainRef}>
        {(status === 'recovering' || status === 'reconnecting' || status === 'relocating') && (
          <p className="notice" data-testid="live-reconnecting" data-status={status} role="status">
            {t(status === 'relocating' ? 'live.watch.relocating' : 'live.watch.reconnecting')}
          </p>
        )}
        <div className={`live-stage ${screen ? 'with-screen' : ''}`} ref={stageRef}>
          {screen && (
            <MediaTile client={client} media={screen} label={t('live.watch.screen')} className="big" />
          )}
          {teacherCam ? (
            <MediaTile
              client={client}
              media={teacherCam}
              label={`${t('live.watch.teacherCamera')} · ${teacherCam.name}`}
              speaking={speaking(teacherCam.userId)}
              className={screen ? 'pip' : 'big'}
              beacon={beacon}
            />
          ) : (
            !screen && (
              <div className="player-placeholder" data-testid="live-waiting">
                {status === 'joined' ? t('live.watch.waitTeacher') : t('live.watch.connecting')}
              </div>
            )
          )}
          <div className="player-bar live-bar" data-testid="live-controls">
            <span className="live-badge">● {t('live.studio.liveBadge')}</span>
            <VolumeControl
              volume={sound.volume}
              muted={sound.muted}
              onChange={(volume, muted) => setSound({ volume, muted })}
            />
            <FullscreenButton target={stageRef} />
          </div>
        </div>
        {voices.map((v) => (
          <MediaTile key={v.consumerId} client={client} media={v} label={v.name} />
        ))}
      </div>
      <aside className="live-side">
        <div className="panel">
          <h2>{t('live.studio.stage')}</h2>
          {onStage ? (
            <>
              <p className="notice notice-ok" data-testid="live-on-stage">
                {t('live.watch.onStage')}
              </p>
              {snap.mutedByTeacher.length > 0 && (
                <p className="notice" data-testid="live-muted">
                  {t('live.watch.muted')}{' '}
                  <button
                    type="button"
                    className="btn btn-small"
                    onClick={() => {
                      for (const source of snap.mutedByTeacher)
                        void client.setPaused(source, false).catch((err: unknown) => setNote(String(err)));
                    }}
                  >
                    {t('live.watch.unmuteSelf')}
                  </button>
                </p>
              )}
              <video ref={previewRef} className="live-self" autoPlay playsInline muted />
              <button type="button" className="btn" disabled={busy} onClick={() => void hand(false)}>
                {t('live.watch.leaveStage')}
              </button>
            </>
          ) : inQueue ? (
            <>
              <p className="notice" data-testid="live-hand-raised">
                {t('live.watch.handRaised')}
              </p>
              <button type="button" className="btn" disabled={busy} onClick={() => void hand(false)}>
                {t('live.watch.lowerHand')}
              </button>
            </>
          ) : (
            <button
              type="button"
              className="btn btn-primary"
              data-testid="live-raise-hand"
              disabled={busy || status !== 'joined'}
              onClick={() => void hand(true)}
            >
              {t('live.watch.raiseHand')}
            </button>
          )}
          {note && <p className="small notice notice-error">{note}</p>}
        </div>
        {classmates.length > 0 && (
          <div className="panel">
            <h2>{t('live.studio.students')}</h2>
            <div className="live-thumbs">
              {classmates.map((m) => (
                <MediaTile
                  key={m.consumerId}
                  client={client}
                  media={m}
                  label={m.name}
                  speaking={speaking(m.userId)}
                />
              ))}
            </div>
          </div>
        )}
        <p className="small muted" data-testid="live-viewers">
          {t('live.studio.viewers')}: {snap.students}
        </p>
        {qa}
      </aside>
    </div>
  );
}
