import { PlatformStatus, PublicUser, QueueTicket, UserList, type GradeId, type Role } from '@sky/contracts';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, ApiError, withQuery } from '../api/client';

import { useApi } from '../api/useApi';
import { useAuth } from '../auth/AuthContext';
import { ErrorNote, Loading } from '../components/Bits';
import { fieldErrors } from '../components/FieldErrors';
import { GradeOptions, RoleOptions } from '../components/Options';

/** The fields the new-user form marks with their own message when the api refuses them. */
const MARKED = ['username', 'displayName', 'password', 'grade', 'school', 'district'];

const EMPTY = {
  username: '',
  displayName: '',
  password: '',
  role: 'student' as Role,
  grade: 'p1' as GradeId,
  school: '',
  district: '',
};

/**
 * The transcoder's queue UI (bull-board) opens with a one-use ticket from the api (never the access token
 * in a URL) and keeps its own session cookie. The tab is opened first: a popup opened after an await is
 * no longer the click's and browsers block it.
 */
async function openQueueUi(): Promise<void> {
  const tab = window.open('about:blank', '_blank');
  try {
    const status = await api('/api/status/detail', PlatformStatus);
    const transcoder = status.services.find((x) => x.service === 'transcoder');
    const { ticket } = await api('/api/status/queue-ticket', QueueTicket, { method: 'POST' });
    if (!transcoder || !tab) throw new Error('no transcoder');
    tab.opener = null;
    tab.location.href = `${transcoder.url}/queues/login?ticket=${encodeURIComponent(ticket)}`;
  } catch {
    tab?.close();
  }
}

/** One user's row actions: disable/enable, sign out everywhere, delete (after a second click to confirm). */
function UserActions({
  user,
  self,
  onDone,
}: {
  user: PublicUser;
  self: boolean;
  onDone: (message: string | null, failure: ApiError | null) => void;
}) {
  const { t } = useTranslation();
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  if (self) return <span className="muted small">—</span>;
  const run = async (action: () => Promise<unknown>, done: string) => {
    setBusy(true);
    try {
      await action();
      onDone(t(done, { username: user.username }), null);
    } catch (err) {
      onDone(null, err instanceof ApiError ? err : new ApiError(0, 'NETWORK', String(err)));
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  };
  const path = `/api/users/${user.id}`;
  if (confirming)
    return (
      <span
        className="row-actions"
        role="group"
        aria-label={t('admin.confirmDelete', { username: user.username })}
      >
        <span className="small">{t('admin.confirmDelete', { username: user.username })}</span>
        <button
          type="button"
          className="btn btn-small btn-danger"
          data-testid={`confirm-delete-${user.username}`}
          disabled={busy}
          onClick={() => void run(() => api(path, null, { method: 'DELETE' }), 'admin.deletedDone')}
        >
          {t('admin.confirm')}
        </button>
        <button type="button" className="btn btn-small btn-ghost" onClick={() => setConfirming(false)}>
          {t('admin.cancel')}
        </button>
      </span>
    );
  return (
    <span className="row-actions">
      {user.disabled ? (
        <button
          type="button"
          className="btn btn-small"
          data-testid={`enable-${user.username}`}
          disabled={busy}
          onClick={() =>
            void run(() => api(`${path}/enable`, PublicUser, { method: 'POST' }), 'admin.enabledDone')
          }
        >
          {t('admin.enable')}
        </button>
      ) : (
        <button
          type="button"
          className="btn btn-small"
          data-testid={`disable-${user.username}`}
          disabled={busy}
          onClick={() =>
            void run(() => api(`${path}/disable`, PublicUser, { method: 'POST' }), 'admin.disabledDone')
          }
        >
          {t('admin.disable')}
        </button>
      )}
      <button
        type="button"
        className="btn btn-small"
        data-testid={`sign-out-${user.username}`}
        disabled={busy}
        onClick={() =>
          void run(() => api(`${path}/sign-out`, null, { method: 'POST' }), 'admin.signedOutDone')
        }
      >
        {t('admin.signOut')}
      </button>
      <button
        type="button"
        className="btn btn-small btn-ghost"
        data-testid={`delete-${user.username}`}
        disabled={busy}
        onClick={() => setConfirming(true)}
      >
        {t('admin.delete')}
      </button>
    </span>
  );
}

export function AdminHome() {
  const { t } = useTranslation();
  const [role, setRole] = useState<Role | ''>('');
  const users = useApi(withQuery('/api/users', { limit: 100, role }), UserList);
  const [form, setForm] = useState(EMPTY);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [failure, setFailure] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const { user: me } = useAuth();
  const [rowMessage, setRowMessage] = useState<string | null>(null);
  const [rowFailure, setRowFailure] = useState<ApiError | null>(null);
  const afterAction = (message: string | null, failure: ApiError | null) => {
    setRowMessage(message);
    setRowFailure(failure);
    users.reload();
  };
  const set = (k: keyof typeof EMPTY) => (e: { target: { value: string } }) =>
    setForm({ ...form, [k]: e.target.value });

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setErrors({});
    setFailure(null);
    setMessage(null);
    setBusy(true);
    const body = {
      username: form.username,
      displayName: form.displayName,
      password: form.password,
      role: form.role,
      ...(form.role === 'student' ? { grade: form.grade } : {}),
      ...(form.school ? { school: form.school } : {}),
      ...(form.district ? { district: form.district } : {}),
    };
    try {
      const created = await api('/api/users', PublicUser, { method: 'POST', body });
      setMessage(t('admin.created', { username: created.username }));
      setForm(EMPTY);
      users.reload();
    } catch (err) {
      setErrors(fieldErrors(err, t));
      // The summary in the reader's language; each marked field says what is wrong with it.
      if (err instanceof ApiError) setFailure(err);
    } finally {
      setBusy(false);
    }
  };

  const field = (k: keyof typeof EMPTY, label: string, type = 'text') => (
    <label>
      {label}
      <input
        type={type}
        value={form[k]}
        onChange={set(k)}
        {...(errors[k] ? { 'aria-invalid': true, 'aria-describedby': `user-${k}-error` } : {})}
      />
      {errors[k] && (
        <span className="field-error" id={`user-${k}-error`} data-testid={`error-${k}`}>
          {errors[k]}
        </span>
      )}
    </label>
  );

  return (
    <section className="two-col">
      <div>
        <div className="page-head">
          <h1>{t('admin.title')}</h1>
          <span className="head-links">
            <Link to="/admin/curriculum" data-testid="curriculum-link">
              {t('admin.curriculumLink')}
            </Link>
            <Link to="/status">{t('admin.statusLink')}</Link>
            <button type="button" className="btn btn-small" onClick={() => void openQueueUi()}>
              {t('admin.queueLink')}
            </button>
          </span>
        </div>
        <label className="inline">
          {t('admin.filter')}
          <select value={role} onChange={(e) => setRole(e.target.value as Role | '')}>
            <option value="">{t('admin.all')}</option>
            <RoleOptions />
          </select>
        </label>
        {users.loading && !users.data && <Loading />}
        {users.error && <ErrorNote error={users.error} onRetry={users.reload} />}
        {rowFailure && <ErrorNote error={rowFailure} />}
        {rowMessage && (
          <p className="notice notice-ok" role="status" data-testid="user-action-done">
            {rowMessage}
          </p>
        )}
        {users.data && (
          <p className="muted small">
            {t('admin.shown', { shown: users.data.items.length, total: users.data.total })}
          </p>
        )}
        {users.data && (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>{t('admin.username')}</th>
                  <th>{t('admin.displayName')}</th>
                  <th>{t('admin.role')}</th>
                  <th>{t('lesson.grade')}</th>
                  <th>{t('admin.school')}</th>
                  <th>{t('admin.district')}</th>
                  <th>{t('admin.actions')}</th>
                </tr>
              </thead>
              <tbody>
                {users.data.items.map((u) => (
                  <tr key={u.id} data-testid={`user-${u.username}`}>
                    <td>
                      {u.username}
                      {u.disabled && (
                        <span className="badge badge-failed user-disabled">{t('admin.disabledBadge')}</span>
                      )}
                    </td>
                    <td>{u.displayName}</td>
                    <td>{t(`roles.${u.role}`)}</td>
                    <td>{u.grade ? t(`grades.${u.grade}`) : '—'}</td>
                    <td>{u.school ?? '—'}</td>
                    <td>{u.district ?? '—'}</td>
                    <td>
                      <UserActions user={u} self={u.id === me?.id} onDone={afterAction} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
      <aside>
        <form className="panel form" onSubmit={(e) => void create(e)} noValidate>
          <h2>{t('admin.create')}</h2>
          {field('username', t('admin.username'))}
          {field('displayName', t('admin.displayName'))}
          {field('password', t('admin.password'), 'password')}
          <label>
            {t('admin.role')}
            <select value={form.role} onChange={set('role')}>
              <RoleOptions />
            </select>
          </label>
          {form.role === 'student' && (
            <label>
              {t('admin.grade')}
              <select
                value={form.grade}
                onChange={set('grade')}
                {...(errors['grade'] ? { 'aria-invalid': true, 'aria-describedby': 'user-grade-error' } : {})}
              >
                <GradeOptions />
              </select>
              {errors['grade'] && (
                <span className="field-error" id="user-grade-error" data-testid="error-grade">
                  {errors['grade']}
                </span>
              )}
            </label>
          )}
          {field('school', t('admin.school'))}
          {field('district', t('admin.district'))}
          {failure && <ErrorNote error={failure} marked={MARKED} />}
          {message && (
            <p className="notice notice-ok" role="status">
              {message}
            </p>
          )}
          <button className="btn btn-primary" type="submit" disabled={busy}>
            {t('admin.submit')}
          </button>
        </form>
      </aside>
    </section>
  );
}
