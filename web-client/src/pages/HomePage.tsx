import { useAuth } from '../auth/AuthContext';
import { AdminHome } from './AdminHome';
import { AnalystHome } from './AnalystHome';
import { FamilyHome } from './FamilyHome';
import { StudentHome } from './StudentHome';
import { TeacherHome } from './TeacherHome';

/** Each role lands on its own home. */
export function HomePage() {
  const { user } = useAuth();
  if (!user) return null;
  switch (user.role) {
    case 'student':
      return <StudentHome user={user} />;
    case 'family':
      return <FamilyHome />;
    case 'teacher':
      return <TeacherHome user={user} />;
    case 'analyst':
      return <AnalystHome />;
    case 'admin':
      return <AdminHome />;
  }
}
