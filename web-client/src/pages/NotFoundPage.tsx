import { useTranslation } from 'react-i18next';
import { Link, useLocation } from 'react-router';
import { useAuth } from '../auth/AuthContext';

/** An address the app does not have: said in the reader's language, with the way home (or to sign in). */
export function NotFoundPage() {
  const { t } = useTranslation();
  const { user } = useAuth();
  const { pathname } = useLocation();
  return (
    <section className="not-found" data-testid="not-found">
      <div className="panel not-found-card">
        <p className="not-found-code" aria-hidden="true">
          404
        </p>
        <h1>{t('notFound.title')}</h1>
        <p className="muted">{t('notFound.text')}</p>
        <p className="not-found-path">
          <code>{pathname}</code>
        </p>
        <div className="not-found-actions">
          <Link className="btn btn-primary" to="/" data-testid="not-found-home">
            {t(user ? 'notFound.home' : 'notFound.signIn')}
          </Link>
          <Link className="btn" to="/status">
            {t('nav.status')}
          </Link>
        </div>
      </div>
    </section>
  );
}
