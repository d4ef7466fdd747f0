import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useDevice, useNav } from '../context';
import { saveDevice } from '../gateway';
import { setTvLanguage, TV_LANGUAGES } from '../i18n';
import { beijing } from '../schedule';
import { Focusable, Header } from '../ui';

/** Settings: whose TV this is, pairing it (again), forgetting the pairing, the language. */
export function SettingsScreen() {
  const { t, i18n } = useTranslation();
  const nav = useNav();
  const { paired, setPaired } = useDevice();
  const [unpaired, setUnpaired] = useState(false);
  const language = i18n.resolvedLanguage === 'en' ? 'en' : 'zh-CN';
  const otherLanguage = TV_LANGUAGES.find((l) => l !== language) ?? 'zh-CN';

  return (
    <div className="tv-screen tv-settings">
      <Header title={t('tv.settings.title')} />
      <div className="settings-body">
        <div className="settings-status">
          <p className="settings-device" data-testid="settings-device">
            {paired ? t('tv.paired', { name: paired.device.name }) : t('tv.notPaired')}
          </p>
          <p className="tv-hint">
            {unpaired
              ? t('tv.settings.unpaired')
              : paired
                ? t('tv.settings.pairedSince', { date: beijing(paired.device.pairedAt).date })
                : t('tv.settings.notPairedHint')}
          </p>
        </div>
        <div className="settings-actions">
          <Focusable
            autoFocus
            className="tv-button is-primary"
            testId="settings-pair"
            onPress={() => nav.push({ name: 'pairing' })}
          >
            {paired ? t('tv.settings.repair') : t('tv.settings.pair')}
          </Focusable>
          {paired && (
            <Focusable
              className="tv-button"
              onPress={() => {
                saveDevice(null);
                setPaired(null);
                setUnpaired(true);
              }}
            >
              {t('tv.settings.unpair')}
            </Focusable>
          )}
          <Focusable className="tv-button" onPress={() => setTvLanguage(otherLanguage)}>
            {t('tv.settings.language', { language: t(`languages.${language}`) })}
          </Focusable>
        </div>
      </div>
    </div>
  );
}
