import type { SignInInfo } from '@sky/contracts';
import { lazy, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Navigate, useLocation, useNavigate } from 'react-router';
import { ApiError, takeSessionEnded, typed } from '../api/client';
import { useApi } from '../api/useApi';
import { useAuth } from '../auth/AuthContext';
import { problemText } from '../components/Bits';
import { fieldErrors } from '../components/FieldErrors';

// Only a user whose password an admin reset sees it: a chunk of its own (with the password form), not the
// first one every phone downloads before it can sign in.
const RenewPassword = lazy(() =>
  import('../manage/RenewPassword').then((m) => ({ default: m.RenewPassword })),
);

/** Sign-in's own refusals read better than the generic texts: a disabled account, too many guesses. */
const OWN_REFUSALS: Partial<Record<string, string>> = {
  FORBIDDEN: 'auth.disabled',
  RATE_LIMITED: 'auth.throttled',
  TEMPORARY_PASSWORD_EXPIRED: 'auth.tempExpired',
};

export function LoginPage() {
  const { t } = useTranslation();
  const { user, login } = useAuth();
  const navigate = useNavigate();
  const from = (useLocation().state as { from?: string } | null)?.from ?? '/';
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [fields, setFields] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  // only npm start's demo says where its generated logins are; a real deployment says nothing of it
  const demo = useApi('/api/public/sign-in', typed<SignInInfo>()).data?.demo === true;
  // the api ended this page's sign-in (elsewhere): say why once, on the form that follows
  const [ended] = useState(takeSessionEnded);
  /** A temporary password an admin set: it only lets the user choose a new one. */
  const [renewing, setRenewing] = useState(false);

  if (user) return <Navigate to={from} replace />;
  if (renewing)
    return (
      <RenewPassword
        username={username}
        temporaryPassword={password}
        onBack={() => {
          setRenewing(false);
          setPassword('');
        }}
        onDone={() => void navigate(from, { replace: true })}
      />
    );

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setFields({});
    try {
      await login(username, password);
      await navigate(from, { replace: true });
    } catch (err) {
      if (err instanceof ApiError && err.code === 'PASSWORD_CHANGE_REQUIRED') {
        setRenewing(true);
        return;
      }
      const own = err instanceof ApiError ? OWN_REFUSALS[err.code] : undefined;
      setError(
        own
          ? t(own)
          : err instanceof ApiError
            ? problemText(err, t, ['username', 'password'])
            : t('errors.network'),
      );
      setFields(fieldErrors(err, t));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="login">
      <form className="panel login-card" onSubmit={(e) => void submit(e)}>
        <h1>{t('auth.title')}</h1>
        <p className="muted">{t('auth.subtitle')}</p>
        {ended && (
          <div className="notice notice-warn" role="status" data-testid="session-ended">
            {t('manage.sessionEnded')}
          </div>
        )}
        <label>
          {t('auth.username')}
          <input
            data-testid="login-username"
            autoComplete="username"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            required
            maxLength={64}
            {...(fields['username']
              ? { 'aria-invalid': true, 'aria-describedby': 'login-username-error' }
              : {})}
          />
          {fields['username'] && (
            <span className="field-error" id="login-username-error">
              {fields['username']}
            </span>
          )}
        </label>
        <label>
          {t('auth.password')}
          <input
            data-testid="login-password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
            {...(fields['password']
              ? { 'aria-invalid': true, 'aria-describedby': 'login-password-error' }
              : {})}
          />
          {fields['password'] && (
            <span className="field-error" id="login-password-error">
              {fields['password']}
            </span>
          )}
        </label>
        {error && (
          <div className="notice notice-error" role="alert">
            {error}
          </div>
        )}
        <button data-testid="login-submit" className="btn btn-primary" type="submit" disabled={busy}>
          {busy ? t('auth.submitting') : t('auth.submit')}
        </button>
        {demo && (
          <p className="hint" data-testid="demo-hint">
            {t('auth.demoHint')}
          </p>
        )}
      </form>
    </div>
  );
}
