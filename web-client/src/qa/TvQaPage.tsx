import { Lesson, PairingClaim, playbackMoment, type PairingPlayback } from '@sky/contracts';
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Navigate, useLocation, useNavigate, useParams } from 'react-router';
import { api, ApiError, type ApiErrorCode } from '../api/client';
import { useApi } from '../api/useApi';
import { useAuth } from '../auth/AuthContext';
import { problemText } from '../components/Bits';
import { clock, QaPanel } from './QaPanel';
import '../i18n/pair';
import '../i18n/qa';

/** How often the page reads where the TV is (its own clock moves it on in between). */
const FOLLOW_MS = 5000;

/** What a refused claim means to the person holding the phone. */
const CLAIM_ERRORS: Partial<Record<ApiErrorCode, string>> = {
  CONFLICT: 'qa.tv.taken',
  NOT_FOUND: 'qa.tv.wrongCode',
  VALIDATION_FAILED: 'qa.tv.badCode',
  RATE_LIMITED: 'qa.tv.tooMany',
};

/** The TV's last report and when this page heard it (performance.now(), not the phone's wall clock). */
interface Heard {
  playback: PairingPlayback | undefined;
  at: number;
}

const momentOf = (heard: Heard) => playbackMoment(heard.playback, (performance.now() - heard.at) / 1000);

/**
 * The phone beside a TV: the signed-in viewer claims the code the TV shows (its QR opens this page with
 * the code) and asks in that lesson's room as themselves. A question carries the moment of the lesson
 * on the TV, read from the api just before it is sent.
 */
export function TvQaPage() {
  const { t } = useTranslation();
  const { user } = useAuth();
  const location = useLocation();
  const navigate = useNavigate();
  const { code: fromUrl } = useParams();
  const [typed, setTyped] = useState(() => fromUrl ?? '');
  // each try at the code in the address (a retry of the same code is a new try) and how it ended
  const [attempt, setAttempt] = useState(0);
  const [outcome, setOutcome] = useState<{
    key: string;
    claim?: { code: string; lessonId: string };
    error?: string;
  } | null>(null);
  const [heard, setHeard] = useState<Heard | null>(null);
  const [tvGone, setTvGone] = useState(false);
  const heardRef = useRef<Heard | null>(null);

  const explain = useCallback(
    (err: unknown) => {
      if (!(err instanceof ApiError)) return t('errors.network');
      const own = CLAIM_ERRORS[err.code];
      return own ? t(own) : problemText(err, t);
    },
    [t],
  );

  const hear = useCallback((c: PairingClaim) => {
    const h = { playback: c.playback, at: performance.now() };
    heardRef.current = h;
    setHeard(h);
  }, []);

  const code = fromUrl?.replace(/\D/g, '');
  const signedIn = !!user;
  const tryKey = `${code}:${attempt}`;
  useEffect(() => {
    if (!signedIn || !code) return;
    let alive = true;
    const key = `${code}:${attempt}`;
    api('/api/qa/pairing/claim', PairingClaim, { method: 'POST', body: { code } }).then(
      (c) => {
        if (!alive) return;
        hear(c);
        setOutcome({ key, claim: { code, lessonId: c.lessonId } });
      },
      (err: unknown) => {
        if (alive) setOutcome({ key, error: explain(err) });
      },
    );
    return () => {
      alive = false;
    };
  }, [signedIn, code, attempt, explain, hear]);
  const settled = outcome?.key === tryKey ? outcome : null;
  const claim = settled?.claim ?? null;
  const error = settled?.error ?? null;
  const busy = !!code && !settled;

  // Where the TV is, every few seconds: shown on the page, and the fallback when an ask cannot read it.
  const read = useCallback(async () => {
    if (!claim) return undefined;
    try {
      const c = await api(`/api/qa/pairing/${claim.code}`, PairingClaim);
      hear(c);
      setTvGone(false);
      return c;
    } catch (err) {
      // the TV stopped reporting long enough for the code to expire: questions go without a moment
      if (err instanceof ApiError && err.code === 'NOT_FOUND') {
        heardRef.current = null;
        setHeard(null);
        setTvGone(true);
      }
      return undefined;
    }
  }, [claim, hear]);
  useEffect(() => {
    if (!claim) return;
    const timer = window.setInterval(() => void read(), FOLLOW_MS);
    return () => window.clearInterval(timer);
  }, [claim, read]);
  const [, tick] = useState(0);
  useEffect(() => {
    const timer = window.setInterval(() => tick((n) => n + 1), 1000);
    return () => window.clearInterval(timer);
  }, []);

  const moment = useCallback(async () => {
    await read();
    return heardRef.current ? momentOf(heardRef.current) : {};
  }, [read]);

  const lesson = useApi(claim ? `/api/lessons/${encodeURIComponent(claim.lessonId)}` : null, Lesson);

  // Not RequireAuth: the login page must come back here with the code still in the address.
  if (!user)
    return <Navigate to="/login" replace state={{ from: `${location.pathname}${location.search}` }} />;

  if (!claim) {
    const submit = (e: FormEvent) => {
      e.preventDefault();
      const digits = typed.replace(/\D/g, '');
      if (digits === code) setAttempt((a) => a + 1);
      else void navigate(`/qa/tv/${digits}`);
    };
    return (
      <div className="login">
        <form className="panel login-card" onSubmit={submit} data-testid="tvqa-claim">
          <h1>{t('qa.tv.title')}</h1>
          <p className="muted">{t('qa.tv.intro')}</p>
          {code && busy && <p role="status">{t('qa.tv.claiming', { code })}</p>}
          {error && (
            <div className="notice notice-error" role="alert" data-testid="tvqa-error">
              {error}
            </div>
          )}
          <label>
            {t('qa.tv.code')}
            <input
              data-testid="tvqa-code"
              className="pair-code-input"
              value={typed}
              onChange={(e) => setTyped(e.target.value)}
              placeholder="123 456"
              inputMode="numeric"
              autoComplete="one-time-code"
              maxLength={7}
              required
            />
          </label>
          <button data-testid="tvqa-submit" className="btn btn-primary" type="submit" disabled={busy}>
            {t('qa.tv.submit')}
          </button>
          <p className="hint">
            {t('pair.signedInAs', { name: user.displayName, role: t(`roles.${user.role}`) })}
          </p>
        </form>
      </div>
    );
  }

  const now = heard ? momentOf(heard) : {};
  const playing = heard?.playback?.playing ?? false;
  return (
    <section className="tvqa-page" data-testid="tvqa-room" data-lesson={claim.lessonId}>
      <h1 className="tvqa-title">{lesson.data?.title ?? t('qa.tv.title')}</h1>
      <p className="muted" role="status" data-testid="tvqa-tv">
        {tvGone
          ? t('qa.tv.gone')
          : now.liveOffset !== undefined
            ? t(playing ? 'qa.tv.onAir' : 'qa.tv.paused', { at: clock(now.liveOffset) })
            : now.position !== undefined
              ? t(playing ? 'qa.tv.playing' : 'qa.tv.paused', { at: clock(now.position) })
              : heard?.playback
                ? t('qa.tv.stale')
                : t('qa.tv.waiting')}
      </p>
      <QaPanel lessonId={claim.lessonId} moment={moment} />
    </section>
  );
}
