import { useEffect, useState, type ReactNode, type Ref } from 'react';
import { useTranslation } from 'react-i18next';
import QRCode from 'qrcode';
import { useDevice } from './context';
import { GatewayError } from './gateway';

/** Something the remote can land on and press (OK). */
export function Focusable({
  focusKey,
  autoFocus = false,
  className = '',
  onPress,
  children,
  testId,
  ref,
}: {
  focusKey?: string;
  /** Where the focus goes first on this screen. */
  autoFocus?: boolean;
  className?: string;
  onPress?: () => void;
  children: ReactNode;
  testId?: string;
  /** For a screen that moves the focus itself (a new primary action). */
  ref?: Ref<HTMLButtonElement>;
}) {
  return (
    <button
      ref={ref}
      type="button"
      className={`tv-focusable ${className}`}
      data-focusable=""
      data-focus-key={focusKey}
      data-autofocus={autoFocus ? '' : undefined}
      data-testid={testId}
      onClick={onPress}
    >
      {children}
    </button>
  );
}

function Logo() {
  return (
    <svg className="tv-logo" viewBox="0 0 32 32" aria-hidden="true">
      <rect width="32" height="32" rx="8" fill="#2563eb" />
      <path d="M7 21c2-6 7-10 13-10l5 2-5 2c-4 0-7 2-9 6z" fill="#fff" />
      <circle cx="23" cy="9" r="2" fill="#ffd166" />
    </svg>
  );
}

/** The top line of every screen: the service, the screen's title, and whose TV this is. */
export function Header({ title }: { title?: string }) {
  const { t } = useTranslation();
  const { paired } = useDevice();
  return (
    <header className="tv-header">
      <div className="tv-brand">
        <Logo />
        <span className="tv-app">{t('tv.appName')}</span>
        <span className="tv-title">{title ?? t('tv.tagline')}</span>
      </div>
      <div className={`tv-device ${paired ? 'is-paired' : ''}`} data-testid="device-name">
        {paired ? t('tv.paired', { name: paired.device.name }) : t('tv.notPaired')}
      </div>
    </header>
  );
}

/** A refusal in the viewer's language. */
export function useErrorText(): (err: unknown) => string {
  const { t } = useTranslation();
  return (err) => {
    if (err instanceof GatewayError && err.status === 0) return t('tv.errors.network');
    const detail = err instanceof Error ? err.message : String(err);
    return t('tv.errors.generic', { detail });
  };
}

/** A QR code of `text`, drawn on the box (no request leaves it). */
export function Qr({ text, className, label }: { text: string; className: string; label: string }) {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    let alive = true;
    QRCode.toDataURL(text, { margin: 1, width: 480, errorCorrectionLevel: 'M' })
      .then((url) => {
        if (alive) setSrc(url);
      })
      .catch(() => {
        if (alive) setSrc(null);
      });
    return () => {
      alive = false;
    };
  }, [text]);
  return src ? (
    <img className={className} src={src} alt={label} data-qr={text} />
  ) : (
    <div className={className} />
  );
}

/** A message in place of a screen's content, with the one button there is to press. */
export function Notice({
  text,
  action,
  onAction,
  tone = 'info',
}: {
  text: string;
  action?: string;
  onAction?: () => void;
  tone?: 'info' | 'error';
}) {
  return (
    <div className={`tv-notice is-${tone}`} role={tone === 'error' ? 'alert' : 'status'}>
      <p>{text}</p>
      {action && onAction && (
        <Focusable autoFocus className="tv-button" onPress={onAction}>
          {action}
        </Focusable>
      )}
    </div>
  );
}

export const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));
