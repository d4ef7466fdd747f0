import { DeviceList, type Device } from '@sky/contracts';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api } from '../api/client';
import { useApi } from '../api/useApi';
import { problemText } from '../components/Bits';
import { ConfirmDialog } from './Dialog';
import { asApiError, formatInstant } from './refusals';
import './manage.css';

/**
 * A family's (or student's) paired TV boxes, as the TV gateway keeps them: name, when paired, when last
 * seen; a link to pair another, and unpairing (the box's token stops working at once).
 */
export function MyTvs() {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'zh-CN';
  const devices = useApi('/api/tv/devices', DeviceList, { behindApi: true });
  const [unpairing, setUnpairing] = useState<Device | null>(null);
  const [busy, setBusy] = useState(false);
  const [refusal, setRefusal] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  const unpair = async (device: Device) => {
    setBusy(true);
    setRefusal(null);
    try {
      await api(`/api/tv/devices/${encodeURIComponent(device.id)}`, null, {
        method: 'DELETE',
        behindApi: true,
      });
      setMessage(t('manage.tvs.unpaired', { name: device.name }));
      setUnpairing(null);
      devices.reload();
    } catch (err) {
      setRefusal(problemText(asApiError(err), t));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="panel my-tvs" data-testid="my-tvs" aria-labelledby="my-tvs-title">
      <div className="my-tvs-head">
        <h2 id="my-tvs-title">{t('manage.tvs.title')}</h2>
        <Link className="btn btn-primary btn-small" to="/pair" data-testid="pair-link">
          {t('manage.tvs.pair')}
        </Link>
      </div>
      <p className="muted small">{t('manage.tvs.intro')}</p>
      {message && (
        <p className="notice notice-ok" role="status" data-testid="tv-action-done">
          {message}
        </p>
      )}
      {devices.error && (
        <div className="notice notice-error" role="alert">
          <span>{t('manage.tvs.unavailable')}</span>
          <button type="button" className="btn btn-small" onClick={devices.reload}>
            {t('errors.retry')}
          </button>
        </div>
      )}
      {devices.data?.length === 0 && <p className="empty small">{t('manage.tvs.empty')}</p>}
      {devices.data && devices.data.length > 0 && (
        <ul className="tv-list">
          {devices.data.map((d) => (
            <li key={d.id} data-testid="tv-item">
              <TvIcon />
              <span className="tv-facts">
                <strong data-testid="tv-name">{d.name}</strong>
                <span className="muted small">
                  {t('manage.tvs.pairedAt', { when: formatInstant(d.pairedAt, lang) })}
                  {' · '}
                  <span data-testid="tv-seen">
                    {d.lastSeenAt
                      ? t('manage.tvs.lastSeen', { when: formatInstant(d.lastSeenAt, lang) })
                      : t('manage.tvs.neverSeen')}
                  </span>
                </span>
              </span>
              <button
                type="button"
                className="btn btn-small btn-ghost"
                data-testid="tv-unpair"
                onClick={() => {
                  setRefusal(null);
                  setUnpairing(d);
                }}
              >
                {t('manage.tvs.unpair')}
              </button>
            </li>
          ))}
        </ul>
      )}
      {unpairing && (
        <ConfirmDialog
          title={t('manage.tvs.unpair')}
          text={t('manage.tvs.confirmUnpair', { name: unpairing.name })}
          confirmLabel={t('manage.tvs.confirmUnpairButton')}
          busy={busy}
          error={refusal}
          testId="unpair-dialog"
          onConfirm={() => void unpair(unpairing)}
          onClose={() => setUnpairing(null)}
        />
      )}
    </section>
  );
}

/** A TV set, drawn (set-top fonts and Debian's have no colour emoji). */
function TvIcon() {
  return (
    <svg className="tv-icon" width="28" height="28" viewBox="0 0 28 28" aria-hidden="true">
      <rect x="2" y="5" width="24" height="16" rx="3" fill="none" stroke="currentColor" strokeWidth="2" />
      <path d="M10 25h8M14 21v4" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
    </svg>
  );
}
