import { lazy, Suspense } from 'react';
import { useTranslation } from 'react-i18next';
import { BrowserRouter, Link, Route, Routes } from 'react-router';
import { AuthProvider, RequireAuth } from './auth/AuthContext';
import { Loading } from './components/Bits';
import { Layout } from './components/Layout';
import { HomePage } from './pages/HomePage';
import { LoginPage } from './pages/LoginPage';
import { PairPage } from './pages/PairPage';
import { InboxPage } from './pages/InboxPage';
import { StatusPage } from './pages/StatusPage';
import { TvQaPage } from './qa/TvQaPage';
import { AccountPage } from './manage/AccountPage';

// The lesson page brings hls.js (about half of the whole bundle): it loads when a lesson is opened,
// so the login page and the homes do not wait for it.
const LessonPage = lazy(() => import('./pages/LessonPage').then((m) => ({ default: m.LessonPage })));
// The curriculum desk is for admins only; the timetable it shares with the homes stays in the main chunk.
const CurriculumAdmin = lazy(() =>
  import('./pages/CurriculumAdmin').then((m) => ({ default: m.CurriculumAdmin })),
);

// Live pages bring mediasoup-client and hls.js; the dashboard brings ECharts: each loads on its own route.
const TeacherStudio = lazy(() => import('./live/TeacherStudio').then((m) => ({ default: m.TeacherStudio })));
const LiveWatch = lazy(() => import('./live/LiveWatch').then((m) => ({ default: m.LiveWatch })));
// A grade channel plays the TV gateway's stitched channel in hls.js.
const ChannelPage = lazy(() => import('./pages/ChannelPage').then((m) => ({ default: m.ChannelPage })));
const Dashboard = lazy(() => import('./analytics/Dashboard').then((m) => ({ default: m.Dashboard })));

function NotFound() {
  const { t } = useTranslation();
  return (
    <div className="panel notice">
      <h1>404</h1>
      <Link to="/">{t('nav.home')}</Link>
    </div>
  );
}

export function App() {
  return (
    <AuthProvider>
      <BrowserRouter>
        <Routes>
          <Route element={<Layout />}>
            <Route path="/login" element={<LoginPage />} />
            <Route path="/status" element={<StatusPage />} />
            <Route path="/pair" element={<PairPage />} />
            <Route path="/qa/tv" element={<TvQaPage />} />
            <Route path="/qa/tv/:code" element={<TvQaPage />} />
            <Route
              path="/"
              element={
                <RequireAuth>
                  <HomePage />
                </RequireAuth>
              }
            />
            <Route
              path="/account"
              element={
                <RequireAuth>
                  <AccountPage />
                </RequireAuth>
              }
            />
            <Route
              path="/admin/curriculum"
              element={
                <RequireAuth roles={['admin']}>
                  <Suspense fallback={<Loading />}>
                    <CurriculumAdmin />
                  </Suspense>
                </RequireAuth>
              }
            />
            <Route
              path="/teacher/inbox"
              element={
                <RequireAuth roles={['teacher', 'admin']}>
                  <InboxPage />
                </RequireAuth>
              }
            />
            <Route
              path="/lessons/:id"
              element={
                <RequireAuth>
                  <Suspense fallback={<Loading />}>
                    <LessonPage />
                  </Suspense>
                </RequireAuth>
              }
            />
            <Route
              path="/teacher/live/:id"
              element={
                <RequireAuth roles={['teacher', 'admin']}>
                  <Suspense fallback={<Loading />}>
                    <TeacherStudio />
                  </Suspense>
                </RequireAuth>
              }
            />
            <Route
              path="/live/:id"
              element={
                <RequireAuth>
                  <Suspense fallback={<Loading />}>
                    <LiveWatch />
                  </Suspense>
                </RequireAuth>
              }
            />
            <Route
              path="/channels/:id"
              element={
                <RequireAuth>
                  <Suspense fallback={<Loading />}>
                    <ChannelPage />
                  </Suspense>
                </RequireAuth>
              }
            />
            <Route
              path="/analytics"
              element={
                <RequireAuth roles={['analyst', 'admin']}>
                  <Suspense fallback={<Loading />}>
                    <Dashboard />
                  </Suspense>
                </RequireAuth>
              }
            />
            <Route path="*" element={<NotFound />} />
          </Route>
        </Routes>
      </BrowserRouter>
    </AuthProvider>
  );
}
