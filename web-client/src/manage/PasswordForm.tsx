import { passwordRuleBroken } from '@sky/contracts';
import { useState, type FormEvent, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../api/client';
import { problemText } from '../components/Bits';
import { fieldErrors, fieldMessage } from '../components/FieldErrors';
import { passwordRuleText } from './refusals';

export interface PasswordChange {
  /** Only when the form asks for it (a signed-in change); a temporary password is already known. */
  currentPassword: string;
  newPassword: string;
}

/**
 * A new password, typed twice, checked here by the contract's rules before it is sent (the api checks
 * again); the api's refusals are shown beside their fields.
 */
export function PasswordForm({
  username,
  askCurrent,
  knownCurrent,
  submitLabel,
  busyLabel,
  testId,
  onSubmit,
  children,
}: {
  username: string;
  /** Show the current-password field (a change while signed in). */
  askCurrent: boolean;
  /** The password being replaced when it is not asked for (a temporary one): the new one must differ. */
  knownCurrent?: string;
  submitLabel: string;
  busyLabel: string;
  testId: string;
  /** Resolves when done; throws the api's refusal. */
  onSubmit: (change: PasswordChange) => Promise<void>;
  children?: ReactNode;
}) {
  const { t } = useTranslation();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setFailure(null);
    const replaced = askCurrent ? current : knownCurrent;
    const rule = passwordRuleBroken(next, { username, ...(replaced ? { current: replaced } : {}) });
    const own: Record<string, string> = {};
    if (askCurrent && !current)
      own['currentPassword'] = fieldMessage({ path: 'currentPassword', message: '', rule: 'required' }, t);
    if (rule) own['newPassword'] = passwordRuleText('newPassword', rule, t);
    else if (next !== again) own['confirm'] = t('manage.account.mismatch');
    setErrors(own);
    if (Object.keys(own).length > 0) return;
    setBusy(true);
    try {
      await onSubmit({ currentPassword: current, newPassword: next });
      setCurrent('');
      setNext('');
      setAgain('');
    } catch (err) {
      // the api's refusals by the rule each field broke, in the reader's language
      const fields = fieldErrors(err, t);
      setErrors(fields);
      if (Object.keys(fields).length === 0)
        setFailure(err instanceof ApiError ? problemText(err, t) : t('errors.network'));
    } finally {
      setBusy(false);
    }
  };

  const field = (
    key: 'currentPassword' | 'newPassword' | 'confirm',
    label: string,
    value: string,
    set: (v: string) => void,
    autoComplete: string,
  ) => (
    <label>
      {label}
      <input
        type="password"
        data-testid={`${testId}-${key}`}
        autoComplete={autoComplete}
        value={value}
        onChange={(e) => set(e.target.value)}
        maxLength={256}
        {...(errors[key] ? { 'aria-invalid': true, 'aria-describedby': `${testId}-${key}-error` } : {})}
      />
      {errors[key] && (
        <span className="field-error" id={`${testId}-${key}-error`} data-testid={`${testId}-${key}-error`}>
          {errors[key]}
        </span>
      )}
    </label>
  );

  return (
    <form className="form password-form" data-testid={testId} onSubmit={(e) => void submit(e)} noValidate>
      {children}
      {askCurrent &&
        field('currentPassword', t('manage.account.current'), current, setCurrent, 'current-password')}
      {field('newPassword', t('manage.account.new'), next, setNext, 'new-password')}
      {field('confirm', t('manage.account.confirm'), again, setAgain, 'new-password')}
      <p className="hint small muted">{t('manage.account.hint')}</p>
      {failure && (
        <div className="notice notice-error" role="alert">
          {failure}
        </div>
      )}
      <button className="btn btn-primary" type="submit" data-testid={`${testId}-submit`} disabled={busy}>
        {busy ? busyLabel : submitLabel}
      </button>
    </form>
  );
}
