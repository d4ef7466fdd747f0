import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import en from './en.json';
import zhCN from './zh-CN.json';
// Feature strings live in their own files, under one top-level key each (t('live.…'), t('analytics.…')).
import analyticsEn from './analytics.en.json';
import analyticsZh from './analytics.zh-CN.json';
import liveEn from './live.en.json';
import liveZh from './live.zh-CN.json';
import manageEn from './manage.en.json';
import manageZh from './manage.zh-CN.json';

export const LANGUAGES = ['zh-CN', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];
const STORAGE_KEY = 'sky.lang';

const saved = localStorage.getItem(STORAGE_KEY);
const initial: Language = saved === 'en' ? 'en' : 'zh-CN';

void i18n.use(initReactI18next).init({
  resources: {
    'zh-CN': { translation: { ...zhCN, live: liveZh, analytics: analyticsZh, manage: manageZh } },
    en: { translation: { ...en, live: liveEn, analytics: analyticsEn, manage: manageEn } },
  },
  lng: initial,
  fallbackLng: 'zh-CN',
  interpolation: { escapeValue: false },
});
document.documentElement.lang = initial;

export function setLanguage(lang: Language): void {
  localStorage.setItem(STORAGE_KEY, lang);
  document.documentElement.lang = lang;
  void i18n.changeLanguage(lang);
}

export default i18n;
