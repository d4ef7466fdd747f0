import { Suspense } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, NavLink, Outlet, useNavigate } from 'react-router';
import { useAuth } from '../auth/AuthContext';
import { LANGUAGES, setLanguage } from '../i18n';
import { Loading } from './Bits';

function Logo() {
  return (
    <svg width="32" height="32" viewBox="0 0 32 32" aria-hidden="true">
      <rect width="32" height="32" rx="8" fill="var(--brand)" />
      <path d="M7 21c2-6 7-10 13-10l5 2-5 2c-4 0-7 2-9 6z" fill="#fff" />
      <circle cx="23" cy="9" r="2" fill="#ffd166" />
    </svg>
  );
}

export function Layout() {
  const { t, i18n } = useTranslation();
  const { user, logout, logoutEverywhere } = useAuth();
  const navigate = useNavigate();
  const lang = i18n.resolvedLanguage;
  return (
    <div className="app">
      <header className="topbar">
        <Link to="/" className="brand">
          <Logo />
          <span className="brand-name">{t('app.name')}</span>
          <span className="brand-tagline">{t('app.tagline')}</span>
        </Link>
        <nav className="topnav">
          {user && <NavLink to="/">{t('nav.home')}</NavLink>}
          <NavLink to="/status">{t('nav.status')}</NavLink>
          <div className="lang" role="group" aria-label={t('nav.language')}>
            {LANGUAGES.map((l) => (
              <button
                key={l}
                type="button"
                lang={l}
                aria-pressed={lang === l}
                onClick={() => void setLanguage(l)}
              >
                {t(`languages.${l}`)}
              </button>
            ))}
          </div>
          {user && (
            <div className="user">
              <Link
                to="/account"
                className="user-name"
                data-testid="account-link"
                title={t('manage.account.link')}
              >
                {user.displayName} <small>{t(`roles.${user.role}`)}</small>
              </Link>
              <button
                type="button"
                className="btn btn-ghost btn-small"
                onClick={() => void logout().then(() => navigate('/login'))}
              >
                {t('nav.logout')}
              </button>
              <button
                type="button"
                className="btn btn-ghost btn-small"
                data-testid="logout-everywhere"
                onClick={() =>
                  void logoutEverywhere().then(
                    () => navigate('/login'),
                    () => undefined,
                  )
                }
              >
                {t('nav.logoutEverywhere')}
              </button>
            </div>
          )}
        </nav>
      </header>
      <main className="content">
        {/* most pages are chunks of their own (App.tsx): the header stays while one loads */}
        <Suspense fallback={<Loading />}>
          <Outlet />
        </Suspense>
      </main>
    </div>
  );
}
