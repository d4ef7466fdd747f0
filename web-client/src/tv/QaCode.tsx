import type { PairingPlaybackBody, TvQaPairing, TvQaPairingBody } from '@sky/contracts';
import { useEffect, useRef, useState, type RefObject } from 'react';
import { useTranslation } from 'react-i18next';
import { useDevice } from './context';
import { GatewayError, reportQaPlayback, requestQaPairing } from './gateway';
import { Qr } from './ui';

/** A code once the lesson has been on screen this long: zapping through channels makes none. */
const SETTLE_MS = 1500;
/** The api moves a playing report on by itself; reports keep it honest (and the code alive). */
const REPORT_MS = 10_000;
/** After a refused or failed request for a code, the box asks again this much later. */
const RETRY_MS = 30_000;

/** As the box shows a code: `123456` → `123 456`. */
export const spacedCode = (code: string) => `${code.slice(0, 3)} ${code.slice(3)}`;

/**
 * Q&A beside the lesson on screen, for a paired box: a code and a QR of the phone page that claims it.
 * The box tells the api where the lesson is (every few seconds, and at once on pause, play and seek) so
 * that a question from the phone carries the moment. Nothing here takes the focus: the remote's keys
 * stay with the player.
 */
export function QaCode({
  target,
  moment,
  video,
}: {
  /** The lesson on screen, as the gateway names it; undefined when there is none (the slate). */
  target: TvQaPairingBody | undefined;
  /** Where the lesson on screen is now; undefined before it plays. */
  moment: () => PairingPlaybackBody | undefined;
  video: RefObject<HTMLVideoElement | null>;
}) {
  const { t } = useTranslation();
  const { paired } = useDevice();
  const token = paired?.token;
  const key = target ? JSON.stringify(target) : undefined;
  const [round, setRound] = useState(0);
  const [shown, setShown] = useState<{ key: string; pairing: TvQaPairing } | null>(null);
  const latest = useRef({ target, moment });
  useEffect(() => {
    latest.current = { target, moment };
  });

  // A code for each lesson on screen (and a new one when the last expired: `round`).
  useEffect(() => {
    const wanted = latest.current.target;
    if (!token || !key || !wanted) return;
    let alive = true;
    let timer = 0;
    const ask = async () => {
      try {
        const pairing = await requestQaPairing(token, wanted);
        if (alive) setShown({ key, pairing });
      } catch (err) {
        // no household (a removed box) or no room for this lesson: nothing to show, no retry
        const final = err instanceof GatewayError && [401, 403, 404].includes(err.status);
        if (alive && !final) timer = window.setTimeout(() => void ask(), RETRY_MS);
      }
    };
    timer = window.setTimeout(() => void ask(), SETTLE_MS);
    return () => {
      alive = false;
      window.clearTimeout(timer);
    };
  }, [token, key, round]);

  const current = shown && shown.key === key ? shown.pairing : undefined;
  const code = current?.code;

  // Where the lesson is, reported to the code on screen.
  useEffect(() => {
    const el = video.current;
    if (!token || !code || !el) return;
    let alive = true;
    let soon = 0;
    const report = async () => {
      const body = latest.current.moment();
      if (!body) return;
      try {
        await reportQaPlayback(token, code, body);
      } catch (err) {
        // expired (the box slept, or the network was gone): a new code
        if (alive && err instanceof GatewayError && err.status === 404) setRound((r) => r + 1);
      }
    };
    const reportSoon = () => {
      window.clearTimeout(soon);
      soon = window.setTimeout(() => void report(), 300);
    };
    const events = ['playing', 'pause', 'seeked'] as const;
    events.forEach((e) => el.addEventListener(e, reportSoon));
    reportSoon();
    const timer = window.setInterval(() => void report(), REPORT_MS);
    return () => {
      alive = false;
      events.forEach((e) => el.removeEventListener(e, reportSoon));
      window.clearTimeout(soon);
      window.clearInterval(timer);
    };
  }, [token, code, video]);

  if (!current) return null;
  return (
    <aside className="tv-qa" data-testid="qa" data-code={current.code}>
      <Qr className="tv-qa-code" text={current.url} label={t('tv.player.qa')} />
      <span className="tv-qa-title">{t('tv.player.qa')}</span>
      <span className="tv-qa-pin" data-testid="qa-code">
        {spacedCode(current.code)}
      </span>
      <span className="tv-qa-hint">
        {t('tv.player.qaHint', { url: current.url.replace(/^https?:\/\//, '').replace(/\/\d+$/, '') })}
      </span>
    </aside>
  );
}
