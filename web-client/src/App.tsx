import { lazy, type ComponentType } from 'react';
import { BrowserRouter, Route, Routes } from 'react-router';
import { AuthProvider, RequireAuth } from './auth/AuthContext';
import { Layout } from './components/Layout';
import { HomePage } from './pages/HomePage';
import { LoginPage } from './pages/LoginPage';
import { NotFoundPage } from './pages/NotFoundPage';

// Sign-in, the home switch and the not-found page are in the first chunk; every other page is a chunk of
// its own, loaded when it is opened (Layout's Suspense shows 加载中… meanwhile), and so are the role homes
// (HomePage) and the English strings (i18n). The libraries go with the pages that use them: hls.js with
// the lesson, live and channel pages, socket.io with Q&A, mediasoup-client with live, ECharts with the
// dashboard.
const lazyPage = <K extends string>(load: () => Promise<Record<K, ComponentType>>, name: K) =>
  lazy(() => load().then((m) => ({ default: m[name] })));
const StatusPage = lazyPage(() => import('./pages/StatusPage'), 'StatusPage');
const PairPage = lazyPage(() => import('./pages/PairPage'), 'PairPage');
const TvQaPage = lazyPage(() => import('./qa/TvQaPage'), 'TvQaPage');
const InboxPage = lazyPage(() => import('./pages/InboxPage'), 'InboxPage');
const LessonPage = lazyPage(() => import('./pages/LessonPage'), 'LessonPage');
const CurriculumAdmin = lazyPage(() => import('./pages/CurriculumAdmin'), 'CurriculumAdmin');
const TeacherStudio = lazyPage(() => import('./live/TeacherStudio'), 'TeacherStudio');
const LiveWatch = lazyPage(() => import('./live/LiveWatch'), 'LiveWatch');
const ChannelPage = lazyPage(() => import('./pages/ChannelPage'), 'ChannelPage');
const AccountPage = lazyPage(() => import('./manage/AccountPage'), 'AccountPage');
const Dashboard = lazyPage(() => import('./analytics/Dashboard'), 'Dashboard');

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
                  <CurriculumAdmin />
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
                  <LessonPage />
                </RequireAuth>
              }
            />
            <Route
              path="/teacher/live/:id"
              element={
                <RequireAuth roles={['teacher', 'admin']}>
                  <TeacherStudio />
                </RequireAuth>
              }
            />
            <Route
              path="/live/:id"
              element={
                <RequireAuth>
                  <LiveWatch />
                </RequireAuth>
              }
            />
            <Route
              path="/channels/:id"
              element={
                <RequireAuth>
                  <ChannelPage />
                </RequireAuth>
              }
            />
            <Route
              path="/analytics"
              element={
                <RequireAuth roles={['analyst', 'admin']}>
                  <Dashboard />
                </RequireAuth>
              }
            />
            <Route path="*" element={<NotFoundPage />} />
          </Route>
        </Routes>
      </BrowserRouter>
    </AuthProvider>
  );
}
