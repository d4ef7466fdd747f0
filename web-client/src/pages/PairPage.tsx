import { Device } from '@sky/contracts';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, Navigate, useLocation, useSearchParams } from 'react-router';
import { api, ApiError, type ApiErrorCode } from '../api/client';
import { useAuth } from '../auth/AuthContext';
import { problemText } from '../components/Bits';
import '../i18n/pair';

/** What the gateway's refusals mean here: a mistyped or expired code, guessing, the wrong kind of account. */
const PAIR_ERRORS: Partial<Record<ApiErrorCode, string>> = {
  NOT_FOUND: 'pair.wrongCode',
  RATE_LIMITED: 'pair.tooMany',
  FORBIDDEN: 'pair.forbidden',
  VALIDATION_FAILED: 'pair.badCode',
};

/**
 * Pairing a TV (the phone end of RFC 8628): the code the TV shows, prefilled when the TV's QR code was
 * scanned, confirmed by a signed-in family member or student.
 */
export function PairPage() {
  const { t } = useTranslation();
  const { user } = useAuth();
  const location = useLocation();
  const [params] = useSearchParams();
  const [code, setCode] = useState(() => params.get('code') ?? '');
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ text: string; codeWrong: boolean } | null>(null);
  const [paired, setPaired] = useState<Device | null>(null);

  // Not RequireAuth: the login page must come back here with the code still in the address.
  if (!user)
    return <Navigate to="/login" replace state={{ from: `${location.pathname}${location.search}` }} />;

  const explain = (err: unknown) => {
    if (!(err instanceof ApiError)) return { text: t('errors.network'), codeWrong: false };
    const own = PAIR_ERRORS[err.code];
    return {
      text: own ? t(own) : problemText(err, t),
      codeWrong: err.code === 'NOT_FOUND' || err.code === 'VALIDATION_FAILED',
    };
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const device = await api('/api/tv/device/approve', Device, {
        method: 'POST',
        body: { user_code: code, ...(name.trim() ? { name: name.trim() } : {}) },
      });
      setPaired(device);
    } catch (err) {
      setError(explain(err));
    } finally {
      setBusy(false);
    }
  };

  if (paired) {
    return (
      <div className="login">
        <div className="panel login-card">
          <h1>{t('pair.title')}</h1>
          <div className="notice notice-ok" role="status" data-testid="pair-done">
            {t('pair.done', { name: paired.name })}
          </div>
          <button
            type="button"
            className="btn"
            onClick={() => {
              setPaired(null);
              setCode('');
              setName('');
            }}
          >
            {t('pair.another')}
          </button>
          <Link to="/" className="btn btn-ghost" data-testid="pair-home">
            {t('manage.tvs.backHome')}
          </Link>
        </div>
      </div>
    );
  }

  return (
    <div className="login">
      <form className="panel login-card" onSubmit={(e) => void submit(e)}>
        <h1>{t('pair.title')}</h1>
        <p className="muted">{t('pair.intro')}</p>
        <label>
          {t('pair.code')}
          <input
            data-testid="pair-code"
            className="pair-code-input"
            value={code}
            onChange={(e) => setCode(e.target.value.toUpperCase())}
            placeholder={t('pair.codePlaceholder')}
            autoComplete="one-time-code"
            autoCapitalize="characters"
            spellCheck={false}
            required
            maxLength={12}
            {...(error?.codeWrong ? { 'aria-invalid': true, 'aria-describedby': 'pair-error' } : {})}
          />
        </label>
        <label>
          {t('pair.name')}
          <input
            data-testid="pair-name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder={t('pair.namePlaceholder')}
            maxLength={40}
          />
        </label>
        {error && (
          <div className="notice notice-error" role="alert" id="pair-error">
            {error.text}
          </div>
        )}
        <button data-testid="pair-submit" className="btn btn-primary" type="submit" disabled={busy}>
          {busy ? t('pair.submitting') : t('pair.submit')}
        </button>
        <p className="hint">
          {t('pair.signedInAs', { name: user.displayName, role: t(`roles.${user.role}`) })}
        </p>
      </form>
    </div>
  );
}
