import { useTranslation } from 'react-i18next';
import { loginWithNewPassword } from '../api/client';
import { PasswordForm } from './PasswordForm';
import './manage.css';

/**
 * The sign-in after an admin's password reset: the temporary password (just typed) never signs in by
 * itself; the user chooses a new one and is signed in with it in the same step.
 */
export function RenewPassword({
  username,
  temporaryPassword,
  onBack,
  onDone,
}: {
  username: string;
  temporaryPassword: string;
  onBack: () => void;
  onDone: () => void;
}) {
  const { t } = useTranslation();
  return (
    <div className="login">
      <div className="panel login-card" data-testid="renew-password">
        <h1>{t('manage.renew.title')}</h1>
        <p className="muted">{t('manage.renew.intro')}</p>
        <PasswordForm
          username={username}
          askCurrent={false}
          knownCurrent={temporaryPassword}
          submitLabel={t('manage.renew.submit')}
          busyLabel={t('manage.renew.submitting')}
          testId="renew"
          onSubmit={async ({ newPassword }) => {
            await loginWithNewPassword(username, temporaryPassword, newPassword);
            onDone();
          }}
        />
        <button type="button" className="btn btn-ghost btn-small" onClick={onBack}>
          {t('manage.renew.back')}
        </button>
      </div>
    </div>
  );
}
