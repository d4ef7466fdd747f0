import { PublicUser, type Role } from '@sky/contracts';
import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, Navigate, useLocation } from 'react-router';
import {
  api,
  loadSession,
  login as apiLogin,
  logout as apiLogout,
  onSessionChange,
  updateSessionUser,
} from '../api/client';

interface AuthState {
  user: PublicUser | null;
  login: (username: string, password: string) => Promise<PublicUser>;
  logout: () => Promise<void>;
}

const AuthContext = createContext<AuthState | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<PublicUser | null>(() => loadSession()?.user ?? null);
  useEffect(() => {
    const off = onSessionChange((s) => setUser(s?.user ?? null));
    // The stored user may be stale (or its token revoked): ask once; a 401 ends the session by itself.
    if (loadSession())
      api('/api/me', PublicUser)
        .then(updateSessionUser)
        .catch(() => undefined);
    return off;
  }, []);
  const value: AuthState = {
    user,
    login: async (u, p) => (await apiLogin(u, p)).user,
    logout: () => apiLogout(),
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
  const { user } = useAuth();
  const location = useLocation();
  const { t } = useTranslation();
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
