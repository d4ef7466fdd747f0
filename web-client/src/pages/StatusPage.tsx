import { PlatformStatus, PublicStatus } from '@sky/contracts';
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { useApi } from '../api/useApi';
import { useAuth } from '../auth/AuthContext';
import { ErrorNote, formatUptime, Loading } from '../components/Bits';
import '../i18n/status';

export function StatusPage() {
  const { t, i18n } = useTranslation();
  const { user } = useAuth();
  // Everyone sees up or down per service; admins also see each service's report.
  const isAdmin = user?.role === 'admin';
  const summary = useApi(isAdmin ? null : '/api/status', PublicStatus);
  const detail = useApi(isAdmin ? '/api/status/detail' : null, PlatformStatus);
  const status = isAdmin ? detail : summary;
  const { reload } = status;
  useEffect(() => {
    const timer = setInterval(reload, 5000);
    return () => clearInterval(timer);
  }, [reload]);
  const data: PlatformStatus | PublicStatus | undefined = status.data;
  const allOk = data?.services.every((s) => s.ok) ?? false;
  return (
    <section>
      <div className="page-head">
        <h1>{t('statusPage.title')}</h1>
        {data && (
          <span className={`pill ${allOk ? 'pill-ok' : 'pill-bad'}`}>
            {allOk ? t('statusPage.allOk') : t('statusPage.someDown')}
          </span>
        )}
      </div>
      {!data && status.loading && <Loading />}
      {status.error && (
        <>
          <ErrorNote error={status.error} onRetry={reload} />
          <p className="muted small">{data ? t('statusPage.stale') : t('statusPage.retrying')}</p>
        </>
      )}
      {data && (
        <>
          <p className="muted">
            {t('statusPage.checkedAt', { time: new Date(data.checkedAt).toLocaleTimeString(i18n.language) })}
          </p>
          <div className="status-grid">
            {data.services.map((s) => (
              <article
                // a service that runs several processes has a card per node (admins) or says how many are up
                key={'url' in s ? `${s.service} ${s.node ?? ''} ${s.url}` : s.service}
                className={`panel status-card ${s.ok ? 'ok' : 'bad'}`}
                data-testid="status-card"
                data-ok={String(s.ok)}
              >
                <header>
                  <span className="dot" aria-hidden="true" />
                  <h2>{t(`services.${s.service}`)}</h2>
                  <span className="state">{s.ok ? t('statusPage.up') : t('statusPage.down')}</span>
                </header>
                {'node' in s && s.node && (
                  <p className="muted small" data-testid="status-node">
                    {t('statusPage.node', { node: s.node })}
                  </p>
                )}
                {'nodes' in s && s.nodes && (
                  <p className="muted small" data-testid="status-nodes">
                    {t('statusPage.nodes', s.nodes)}
                  </p>
                )}
                {'report' in s && s.report ? (
                  <>
                    <p className="muted small">
                      {t('statusPage.version', {
                        version: s.report.version,
                        uptime: formatUptime(s.report.uptimeSec, t),
                      })}
                    </p>
                    <ul className="deps">
                      {Object.entries(s.report.dependencies).map(([name, dep]) => (
                        <li key={name} className={dep.ok ? 'ok' : 'bad'}>
                          <span className="dot" aria-hidden="true" />
                          <span className="dep-name">{name}</span>
                          <span className="dep-detail">{dep.detail}</span>
                        </li>
                      ))}
                    </ul>
                  </>
                ) : 'error' in s && s.error ? (
                  <p className="failure">
                    {t('statusPage.unreachable', {
                      error: t(`statusPage.errors.${s.error}`, { defaultValue: s.error }),
                    })}
                  </p>
                ) : (
                  'detail' in s && s.detail && <p className="muted small">{t('statusPage.onQueue')}</p>
                )}
              </article>
            ))}
          </div>
        </>
      )}
    </section>
  );
}
