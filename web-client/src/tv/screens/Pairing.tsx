import type { DeviceCodeResponse } from '@sky/contracts';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useDevice, useLineup, useNav } from '../context';
import { pollToken, requestCode, saveDevice, skipPairing } from '../gateway';
import { Focusable, Header, Qr, useErrorText } from '../ui';

type Phase =
  | { step: 'requesting' }
  | { step: 'waiting'; code: DeviceCodeResponse; retrying: boolean }
  | { step: 'expired' }
  | { step: 'denied' }
  | { step: 'failed'; detail: string };

/**
 * Pairing (RFC 8628 device flow): a short code and a QR of the web's /pair page; the box polls at the
 * gateway's interval (longer after slow_down) until a family member confirms, or the code expires.
 */
export function PairingScreen() {
  const { t } = useTranslation();
  const nav = useNav();
  const { setPaired } = useDevice();
  const { reload } = useLineup();
  const errorText = useErrorText();
  const [round, setRound] = useState(0);
  // each round's phase carries its round: a new round reads as requesting until its own phase arrives
  const [tagged, setTagged] = useState<{ round: number; phase: Phase }>({
    round: 0,
    phase: { step: 'requesting' },
  });
  const phase: Phase = tagged.round === round ? tagged.phase : { step: 'requesting' };
  // A new round (a new code) is the only restart: the callbacks are read at their latest when called
  const latest = useRef({ nav, setPaired, reload, errorText });
  useEffect(() => {
    latest.current = { nav, setPaired, reload, errorText };
  });

  useEffect(() => {
    let alive = true;
    let timer = 0;
    const setPhase = (p: Phase) => setTagged({ round, phase: p });
    const start = async () => {
      let code: DeviceCodeResponse;
      try {
        code = await requestCode();
      } catch (err) {
        if (alive) setPhase({ step: 'failed', detail: latest.current.errorText(err) });
        return;
      }
      if (!alive) return;
      setPhase({ step: 'waiting', code, retrying: false });
      // Durations only: the box's clock may be wrong, but it ticks.
      const deadline = Date.now() + code.expires_in * 1000;
      let interval = code.interval;
      const poll = async () => {
        if (!alive) return;
        if (Date.now() >= deadline) {
          setPhase({ step: 'expired' });
          return;
        }
        try {
          const result = await pollToken(code.device_code);
          if (!alive) return;
          if (result.ok) {
            const paired = { token: result.paired.access_token, device: result.paired.device };
            saveDevice(paired);
            const { setPaired, reload, nav } = latest.current;
            setPaired(paired);
            // A gateway that refused the lineup to an unpaired box answers it now.
            reload();
            nav.reset({ name: 'home' });
            return;
          }
          switch (result.error) {
            case 'authorization_pending':
              setPhase({ step: 'waiting', code, retrying: false });
              break;
            case 'slow_down':
              interval += 5;
              break;
            case 'expired_token':
            case 'invalid_grant':
              setPhase({ step: 'expired' });
              return;
            case 'access_denied':
              setPhase({ step: 'denied' });
              return;
            case 'invalid_request':
              setPhase({ step: 'failed', detail: result.error });
              return;
          }
        } catch {
          // A dropped request is not the end of the code: keep polling while it is valid.
          if (alive) setPhase({ step: 'waiting', code, retrying: true });
        }
        timer = window.setTimeout(() => void poll(), interval * 1000);
      };
      timer = window.setTimeout(() => void poll(), interval * 1000);
    };
    void start();
    return () => {
      alive = false;
      window.clearTimeout(timer);
    };
  }, [round]);

  const newCode = useRef<HTMLButtonElement>(null);
  const ended = phase.step === 'expired' || phase.step === 'denied' || phase.step === 'failed';
  // Once the code is spent, OK asks for a new one: the focus moves there from Skip.
  useEffect(() => {
    if (ended) newCode.current?.focus();
  }, [ended]);

  const skip = () => {
    skipPairing();
    nav.reset({ name: 'home' });
  };
  const code = phase.step === 'waiting' ? phase.code : undefined;
  let status: string;
  switch (phase.step) {
    case 'requesting':
      status = t('tv.pairing.requesting');
      break;
    case 'waiting':
      status = phase.retrying
        ? t('tv.pairing.retrying')
        : `${t('tv.pairing.waiting')}（${t('tv.pairing.validFor', { count: Math.round(phase.code.expires_in / 60) })}）`;
      break;
    case 'expired':
      status = t('tv.pairing.expired');
      break;
    case 'denied':
      status = t('tv.pairing.denied');
      break;
    case 'failed':
      status = t('tv.pairing.failed', { detail: phase.detail });
      break;
  }

  return (
    <div className="tv-screen tv-pairing">
      <Header title={t('tv.pairing.title')} />
      <div className="pair-body">
        <div className="pair-qr-box">
          {code ? (
            <Qr
              className="pair-qr"
              text={code.verification_uri_complete}
              label={code.verification_uri_complete}
            />
          ) : (
            <div className={`pair-qr is-empty ${ended ? 'is-ended' : ''}`} />
          )}
        </div>
        <div className="pair-info">
          <p className="pair-line">{t('tv.pairing.scan')}</p>
          <p className="pair-uri" data-testid="verification-uri">
            {code ? code.verification_uri : '—'}
          </p>
          <p className="pair-line">{t('tv.pairing.enter')}</p>
          <p className={`pair-code ${code ? '' : 'is-empty'}`} data-testid="user-code">
            {code ? code.user_code : '····-····'}
          </p>
          <p className={`pair-status ${ended ? 'is-error' : ''}`} role="status" data-testid="pairing-status">
            {status}
          </p>
          <div className="tv-row">
            {ended && (
              <Focusable
                ref={newCode}
                autoFocus
                className="tv-button is-primary"
                testId="pairing-new-code"
                onPress={() => setRound((r) => r + 1)}
              >
                {t('tv.pairing.newCode')}
              </Focusable>
            )}
            <Focusable autoFocus={!ended} className="tv-button" onPress={skip} testId="pairing-skip">
              {t('tv.pairing.skip')}
            </Focusable>
          </div>
          <p className="tv-hint">{t('tv.pairing.skipHint')}</p>
        </div>
      </div>
    </div>
  );
}
