import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api } from '../api/client';
import { useAuth } from '../auth/AuthContext';
import { PasswordForm } from './PasswordForm';
import './manage.css';

/** One's own account: who it is, and a password change that signs out the other devices. */
export function AccountPage() {
  const { t } = useTranslation();
  const { user } = useAuth();
  const [done, setDone] = useState(false);
  if (!user) return null;
  return (
    <section className="account-page">
      <h1>{t('manage.account.title')}</h1>
      <dl className="facts">
        <dt>{t('manage.account.username')}</dt>
        <dd data-testid="account-username">{user.username}</dd>
        <dt>{t('manage.account.name')}</dt>
        <dd data-testid="account-name">{user.displayName}</dd>
        <dt>{t('manage.account.role')}</dt>
        <dd>{t(`roles.${user.role}`)}</dd>
        {(user.grade || user.role === 'family') && (
          <>
            <dt>{t(user.role === 'family' ? 'manage.account.childGrade' : 'manage.account.grade')}</dt>
            <dd data-testid="account-grade">
              {user.grade ? t(`grades.${user.grade}`) : '—'}
              {user.role === 'family' && (
                <>
                  {' · '}
                  <Link to="/">{t('manage.account.changeOnHome')}</Link>
                </>
              )}
            </dd>
          </>
        )}
        {user.school && (
          <>
            <dt>{t('manage.account.school')}</dt>
            <dd>{user.school}</dd>
          </>
        )}
      </dl>
      <div className="panel">
        <h2>{t('manage.account.password')}</h2>
        <p className="muted">{t('manage.account.passwordIntro')}</p>
        {done && (
          <p className="notice notice-ok" role="status" data-testid="password-changed">
            {t('manage.account.done')}
          </p>
        )}
        <PasswordForm
          username={user.username}
          askCurrent
          submitLabel={t('manage.account.submit')}
          busyLabel={t('manage.account.submitting')}
          testId="change-password"
          onSubmit={async (change) => {
            setDone(false);
            await api('/api/auth/password', null, { method: 'POST', body: change });
            setDone(true);
          }}
        />
      </div>
    </section>
  );
}
