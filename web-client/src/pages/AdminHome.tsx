import {
  PasswordReset,
  PlatformStatus,
  PublicUser,
  QueueTicket,
  UserList,
  type GradeId,
  type Role,
} from '@sky/contracts';
import { useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, ApiError, withQuery } from '../api/client';

import { useApi } from '../api/useApi';
import { useAuth } from '../auth/AuthContext';
import { ErrorNote, Loading, problemText } from '../components/Bits';
import { fieldErrors } from '../components/FieldErrors';
import { GradeOptions, RoleOptions } from '../components/Options';
import { ConfirmDialog, Dialog } from '../manage/Dialog';
import { asApiError, formatInstant } from '../manage/refusals';
import { useNow } from '../tv/useNow';

/** Users on one page of the list; the api pages past it (offset) and counts them all. */
const PAGE_SIZE = 50;

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
  /** `removed`: the user is gone from the list (deleted). */
  onDone: (message: string | null, failure: ApiError | null, removed?: boolean) => void;
}) {
  const { t } = useTranslation();
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  /** The reset's question, then its temporary password (shown once). */
  const [reset, setReset] = useState<'confirm' | PasswordReset | null>(null);
  const [resetRefusal, setResetRefusal] = useState<string | null>(null);
  if (self) return <span className="muted small">—</span>;
  const resetPassword = async () => {
    setBusy(true);
    setResetRefusal(null);
    try {
      const done = await api(`/api/users/${user.id}/password-reset`, PasswordReset, { method: 'POST' });
      setReset(done);
      onDone(t('manage.users.resetDone', { username: user.username }), null);
    } catch (err) {
      setResetRefusal(problemText(asApiError(err), t));
    } finally {
      setBusy(false);
    }
  };
  const resetDialogs =
    reset === 'confirm' ? (
      <ConfirmDialog
        title={t('manage.users.resetPassword')}
        text={t('manage.users.confirmReset', { username: user.username })}
        confirmLabel={t('manage.users.confirmResetButton')}
        busy={busy}
        error={resetRefusal}
        testId="reset-dialog"
        onConfirm={() => void resetPassword()}
        onClose={() => setReset(null)}
      />
    ) : reset ? (
      <TemporaryPassword reset={reset} onClose={() => setReset(null)} />
    ) : null;
  const run = async (action: () => Promise<unknown>, done: string, removed = false) => {
    setBusy(true);
    try {
      await action();
      onDone(t(done, { username: user.username }), null, removed);
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
          onClick={() => void run(() => api(path, null, { method: 'DELETE' }), 'admin.deletedDone', true)}
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
        className="btn btn-small"
        data-testid={`reset-${user.username}`}
        disabled={busy}
        onClick={() => {
          setResetRefusal(null);
          setReset('confirm');
        }}
      >
        {t('manage.users.resetPassword')}
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
      {resetDialogs}
    </span>
  );
}

/** The temporary password of a reset, shown once, to be read out or copied to the user. */
function TemporaryPassword({ reset, onClose }: { reset: PasswordReset; onClose: () => void }) {
  const { t, i18n } = useTranslation();
  const [copied, setCopied] = useState(false);
  return (
    <Dialog
      title={t('manage.users.tempTitle', { username: reset.user.username })}
      testId="temp-password-dialog"
      onClose={onClose}
    >
      <p>{t('manage.users.tempIntro')}</p>
      <p className="temp-password">
        <code data-testid="temp-password">{reset.temporaryPassword}</code>
        <button
          type="button"
          className="btn btn-small"
          onClick={() =>
            void navigator.clipboard.writeText(reset.temporaryPassword).then(
              () => setCopied(true),
              () => setCopied(false),
            )
          }
        >
          {copied ? t('manage.users.copied') : t('manage.users.copy')}
        </button>
      </p>
      <p className="muted small" data-testid="temp-password-expires">
        {t('manage.users.tempExpires', {
          when: formatInstant(reset.expiresAt, i18n.resolvedLanguage ?? 'zh-CN'),
        })}
      </p>
    </Dialog>
  );
}

export function AdminHome() {
  const { t } = useTranslation();
  // a temporary password expiring while the list is open shows as expired
  const now = useNow(60_000);
  const [role, setRole] = useState<Role | ''>('');
  const [typed, setTyped] = useState('');
  const [words, setWords] = useState('');
  const [page, setPage] = useState(0);
  // the list follows the search box a moment after typing stops, from its first page
  useEffect(() => {
    const timer = setTimeout(() => {
      setWords(typed.trim());
      setPage(0);
    }, 300);
    return () => clearTimeout(timer);
  }, [typed]);
  const users = useApi(
    withQuery('/api/users', { limit: PAGE_SIZE, offset: page * PAGE_SIZE, role, q: words }),
    UserList,
  );
  const pages = users.data ? Math.max(1, Math.ceil(users.data.total / PAGE_SIZE)) : 1;
  const [form, setForm] = useState(EMPTY);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [failure, setFailure] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const { user: me } = useAuth();
  const [rowMessage, setRowMessage] = useState<string | null>(null);
  const [rowFailure, setRowFailure] = useState<ApiError | null>(null);
  const afterAction = (message: string | null, failure: ApiError | null, removed = false) => {
    setRowMessage(message);
    setRowFailure(failure);
    // the last one of a later page gone: show the page before
    if (removed && page > 0 && users.data?.items.length === 1) setPage(page - 1);
    else users.reload();
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
        <div className="user-filters" role="search">
          <label className="inline">
            {t('manage.users.search')}
            <input
              type="search"
              data-testid="user-search"
              value={typed}
              maxLength={50}
              placeholder={t('manage.users.searchPlaceholder')}
              onChange={(e) => setTyped(e.target.value)}
            />
          </label>
          <label className="inline">
            {t('admin.filter')}
            <select
              value={role}
              onChange={(e) => {
                setRole(e.target.value as Role | '');
                setPage(0);
              }}
            >
              <option value="">{t('admin.all')}</option>
              <RoleOptions />
            </select>
          </label>
        </div>
        {users.loading && !users.data && <Loading />}
        {users.error && <ErrorNote error={users.error} onRetry={users.reload} />}
        {rowFailure && <ErrorNote error={rowFailure} />}
        {rowMessage && (
          <p className="notice notice-ok" role="status" data-testid="user-action-done">
            {rowMessage}
          </p>
        )}
        {users.data && (
          <p className="muted small" data-testid="user-range">
            {users.data.total === 0
              ? t('manage.users.none')
              : t('manage.users.range', {
                  from: page * PAGE_SIZE + 1,
                  to: page * PAGE_SIZE + users.data.items.length,
                  total: users.data.total,
                })}
          </p>
        )}
        {users.data && (
          <div className="table-wrap">
            <table className="users-table">
              <thead>
                <tr>
                  <th>{t('admin.username')}</th>
                  <th>{t('admin.displayName')}</th>
                  <th>{t('admin.roleGrade')}</th>
                  <th>{t('admin.schoolDistrict')}</th>
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
                      {u.mustChangePassword &&
                        (u.temporaryPasswordExpiresAt && Date.parse(u.temporaryPasswordExpiresAt) <= now ? (
                          <span className="badge badge-failed user-disabled" data-testid="temp-expired-badge">
                            {t('manage.users.tempExpiredBadge')}
                          </span>
                        ) : (
                          <span className="badge badge-processing user-disabled">
                            {t('manage.users.mustChangeBadge')}
                          </span>
                        ))}
                    </td>
                    <td>{u.displayName}</td>
                    {/* two facts a cell, two lines: the actions stay in view beside them */}
                    <td>
                      {t(`roles.${u.role}`)}
                      {u.grade && <span className="cell-second">{t(`grades.${u.grade}`)}</span>}
                    </td>
                    <td>
                      {u.school ?? '—'}
                      {u.district && <span className="cell-second">{u.district}</span>}
                    </td>
                    <td className="user-actions-cell">
                      <UserActions user={u} self={u.id === me?.id} onDone={afterAction} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {users.data && pages > 1 && (
          <nav className="pager" aria-label={t('manage.users.pager')}>
            <button
              type="button"
              className="btn btn-small"
              data-testid="users-prev"
              disabled={page === 0}
              onClick={() => setPage(page - 1)}
            >
              ← {t('manage.users.prev')}
            </button>
            <span className="small" data-testid="users-page">
              {t('manage.users.page', { page: page + 1, pages })}
            </span>
            <button
              type="button"
              className="btn btn-small"
              data-testid="users-next"
              disabled={page + 1 >= pages}
              onClick={() => setPage(page + 1)}
            >
              {t('manage.users.next')} →
            </button>
          </nav>
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
