import { lazy, Suspense } from 'react';
import { useAuth } from '../auth/AuthContext';
import { Loading } from '../components/Bits';

// Each role's home is its own chunk: a student never downloads the admin's pages, the uploader (tus) or
// the teacher's schedule.
const StudentHome = lazy(() => import('./StudentHome').then((m) => ({ default: m.StudentHome })));
const FamilyHome = lazy(() => import('./FamilyHome').then((m) => ({ default: m.FamilyHome })));
const TeacherHome = lazy(() => import('./TeacherHome').then((m) => ({ default: m.TeacherHome })));
const AnalystHome = lazy(() => import('./AnalystHome').then((m) => ({ default: m.AnalystHome })));
const AdminHome = lazy(() => import('./AdminHome').then((m) => ({ default: m.AdminHome })));

/** Each role lands on its own home. */
export function HomePage() {
  const { user } = useAuth();
  if (!user) return null;
  return <Suspense fallback={<Loading />}>{home(user)}</Suspense>;
}

function home(user: NonNullable<ReturnType<typeof useAuth>['user']>) {
  switch (user.role) {
    case 'student':
      return <StudentHome user={user} />;
    case 'family':
      return <FamilyHome user={user} />;
    case 'teacher':
      return <TeacherHome user={user} />;
    case 'analyst':
      return <AnalystHome />;
    case 'admin':
      return <AdminHome />;
  }
}
