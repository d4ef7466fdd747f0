import type { PublicUser, Role } from '@sky/contracts';
import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, Navigate, useLocation } from 'react-router';
import {
  api,
  loadSession,
  login as apiLogin,
  logout as apiLogout,
  logoutEverywhere as apiLogoutEverywhere,
  onSessionChange,
  restoreSession,
  typed,
  updateSessionUser,
} from '../api/client';
import { Loading } from '../components/Bits';

interface AuthState {
  user: PublicUser | null;
  /** True until the page has asked the api whether its refresh cookie still holds a session. */
  restoring: boolean;
  login: (username: string, password: string) => Promise<PublicUser>;
  logout: () => Promise<void>;
  /** Ends every sign-in of this user, on every device. */
  logoutEverywhere: () => Promise<void>;
}

const AuthContext = createContext<AuthState | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<PublicUser | null>(() => loadSession()?.user ?? null);
  const [restoring, setRestoring] = useState(() => loadSession() === null);
  useEffect(() => {
    const off = onSessionChange((s) => setUser(s?.user ?? null));
    // The access token lives in memory only: a new page trades the refresh cookie for one, then asks
    // who the user is now (renamed, regraded); a 401 ends the session by itself.
    void restoreSession()
      .then((s) => (s ? api('/api/me', typed<PublicUser>()).then(updateSessionUser) : undefined))
      .catch(() => undefined)
      .finally(() => setRestoring(false));
    // A tab coming back into view asks again: a sign-in ended meanwhile (a password reset, a disabled
    // account, sign out everywhere) shows at once rather than at the next click.
    const recheck = () => {
      if (document.visibilityState === 'visible' && loadSession())
        void api('/api/me', typed<PublicUser>())
          .then(updateSessionUser)
          .catch(() => undefined);
    };
    document.addEventListener('visibilitychange', recheck);
    return () => {
      off();
      document.removeEventListener('visibilitychange', recheck);
    };
  }, []);
  const value: AuthState = {
    user,
    restoring,
    login: async (u, p) => (await apiLogin(u, p)).user,
    logout: () => apiLogout(),
    logoutEverywhere: () => apiLogoutEverywhere(),
  };
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const ctx = useContext(AuthContext);
  if (!ctx) throw new Error('useAuth outside AuthProvider');
  return ctx;
}

/** Signed-in users only (optionally of some roles); others go to the login page or see why not. */
export function RequireAuth({ roles, children }: { roles?: readonly Role[]; children: ReactNode }) {
  const { user, restoring } = useAuth();
  const location = useLocation();
  const { t } = useTranslation();
  if (!user && restoring) return <Loading />;
  if (!user) return <Navigate to="/login" replace state={{ from: location.pathname }} />;
  if (roles && !roles.includes(user.role)) {
    return (
      <div className="panel notice" role="alert">
        <span>{t('auth.noAccess')}</span>
        <Link to="/">{t('nav.home')}</Link>
      </div>
    );
  }
  return <>{children}</>;
}
