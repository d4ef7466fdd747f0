import { GRADE_IDS, ROLES } from '@sky/contracts';
import { useTranslation } from 'react-i18next';

/** <option>s for the twelve grades, in their Chinese (or English) names. */
export function GradeOptions() {
  const { t } = useTranslation();
  return GRADE_IDS.map((g) => (
    <option key={g} value={g}>
      {t(`grades.${g}`)}
    </option>
  ));
}

export function RoleOptions() {
  const { t } = useTranslation();
  return ROLES.map((r) => (
    <option key={r} value={r}>
      {t(`roles.${r}`)}
    </option>
  ));
}
