import type { PairingPlaybackBody, TvQaPairing, TvQaPairingBody } from '@sky/contracts';
import { useEffect, useRef, useState, type RefObject } from 'react';
import { useTranslation } from 'react-i18next';
import { useDevice } from './context';
import { GatewayError, reportQaPlayback, requestQaPairing } from './gateway';
import { Qr } from './ui';

/** A code once the lesson has been on screen this long: zapping through channels makes none. */
const SETTLE_MS = 3000;
/**
 * Reports between the events that move the lesson (play, pause, seek): the api moves a playing report on
 * by itself, so these only catch drift, keep the codes alive and hear that a phone took the code.
 */
const REPORT_MS = 30_000;
/** After a refused or failed request for a code, the box asks again this much later. */
const RETRY_MS = 30_000;

/** As the box shows a code: `123456` → `123 456`. */
export const spacedCode = (code: string) => `${code.slice(0, 3)} ${code.slice(3)}`;

/** The codes of the lesson on screen: the one shown for the next phone, and those phones hold. */
interface Codes {
  key: string;
  shown: TvQaPairing | null;
  held: string[];
  /** On a channel: when second 0 of the lesson airs, on the channel's clock (ms). */
  lessonStartMs: number | undefined;
}

/**
 * Q&A beside the lesson on screen, for a paired box: a code and a QR of the phone page that claims it.
 * A code serves one phone: once one holds it the box shows a new code for the next. The box tells the
 * api where the lesson is (at once on play, pause and seek, else every half minute) for every code, so a
 * question from any of the phones carries the moment. Nothing here takes the focus: the remote's keys
 * stay with the player.
 */
export function QaCode({
  target,
  moment,
  video,
}: {
  /** The lesson on screen, as the gateway names it; undefined when there is none (the slate). */
  target: TvQaPairingBody | undefined;
  /** Where the lesson on screen is now (on a channel, from when its second 0 airs); undefined before it plays. */
  moment: (lessonStartMs: number | undefined) => PairingPlaybackBody | undefined;
  video: RefObject<HTMLVideoElement | null>;
}) {
  const { t } = useTranslation();
  const { paired } = useDevice();
  const token = paired?.token;
  const key = target ? JSON.stringify(target) : undefined;
  // a new code is wanted: the lesson changed, a phone took the one shown, or it expired
  const [round, setRound] = useState(0);
  const [state, setState] = useState<Codes | null>(null);
  const codes = state && state.key === key ? state : null;
  const latest = useRef({ target, moment, codes });
  useEffect(() => {
    latest.current = { target, moment, codes };
  });

  useEffect(() => {
    const wanted = latest.current.target;
    if (!token || !key || !wanted) return;
    let alive = true;
    let timer = 0;
    const ask = async () => {
      try {
        const pairing = await requestQaPairing(token, wanted);
        if (!alive) return;
        setState((s) => ({
          key,
          shown: pairing,
          held: s && s.key === key ? s.held : [],
          lessonStartMs: pairing.lessonStartAt === undefined ? undefined : Date.parse(pairing.lessonStartAt),
        }));
      } catch (err) {
        // no household (a removed box) or no room for this lesson: nothing to show, no retry
        const final = err instanceof GatewayError && [401, 403, 404].includes(err.status);
        if (alive && !final) timer = window.setTimeout(() => void ask(), RETRY_MS);
      }
    };
    // the first code of a lesson waits for the viewer to settle; the next one is wanted now
    timer = window.setTimeout(() => void ask(), latest.current.codes ? 0 : SETTLE_MS);
    return () => {
      alive = false;
      window.clearTimeout(timer);
    };
  }, [token, key, round]);

  const shownCode = codes?.shown?.code;
  const heldCodes = codes?.held.join(',') ?? '';
  useEffect(() => {
    const el = video.current;
    if (!token || !key || !el || (!shownCode && !heldCodes)) return;
    let alive = true;
    let soon = 0;
    const forget = (code: string, taken: boolean) =>
      setState((s) =>
        s && s.key === key && (s.shown?.code === code || s.held.includes(code))
          ? {
              ...s,
              shown: s.shown?.code === code ? null : s.shown,
              held: [...s.held.filter((c) => c !== code), ...(taken ? [code] : [])],
            }
          : s,
      );
    const reportTo = async (code: string, body: PairingPlaybackBody) => {
      try {
        const { claimed } = await reportQaPlayback(token, code, body);
        if (alive && claimed && code === shownCode) {
          forget(code, true);
          setRound((r) => r + 1);
        }
      } catch (err) {
        // expired (the box slept, or the network was gone): gone from the phone too; a new one is shown
        if (alive && err instanceof GatewayError && err.status === 404) {
          forget(code, false);
          if (code === shownCode) setRound((r) => r + 1);
        }
      }
    };
    const report = async () => {
      const body = latest.current.moment(latest.current.codes?.lessonStartMs);
      if (!body) return;
      const all = [...(shownCode ? [shownCode] : []), ...(heldCodes ? heldCodes.split(',') : [])];
      await Promise.all(all.map((code) => reportTo(code, body)));
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
  }, [token, key, shownCode, heldCodes, video]);

  if (!codes || (!codes.shown && codes.held.length === 0)) return null;
  const { shown, held } = codes;
  return (
    <aside className="tv-qa" data-testid="qa" data-code={shown?.code} data-phones={held.length}>
      {shown && (
        <>
          <Qr className="tv-qa-code" text={shown.url} label={t('tv.player.qa')} />
          <span className="tv-qa-title">{t('tv.player.qa')}</span>
          <span className="tv-qa-pin" data-testid="qa-code">
            {spacedCode(shown.code)}
          </span>
          <span className="tv-qa-hint">
            {t('tv.player.qaHint', { url: shown.url.replace(/^https?:\/\//, '').replace(/\/\d+$/, '') })}
          </span>
        </>
      )}
      {held.length > 0 && (
        <span className="tv-qa-phones" data-testid="qa-phones">
          {t('tv.player.qaPhones', { count: held.length })}
        </span>
      )}
    </aside>
  );
}
