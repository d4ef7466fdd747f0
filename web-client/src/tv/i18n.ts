import { createInstance } from 'i18next';
import { initReactI18next } from 'react-i18next';
// The TV's own strings are files of their own (the web has none of them); of the web's, named imports take
// only the grade and language names.
import { grades as gradesEn, languages as languagesEn } from '../i18n/en.json';
import tvEn from '../i18n/tv.en.json';
import tvZh from '../i18n/tv.zh-CN.json';
import { grades as gradesZh, languages as languagesZh } from '../i18n/zh-CN.json';

export const TV_LANGUAGES = ['zh-CN', 'en'] as const;
export type TvLanguage = (typeof TV_LANGUAGES)[number];
// The same key as the web client's, so the web's TV mode follows the language chosen there.
const STORAGE_KEY = 'sky.lang';

function savedLanguage(): TvLanguage {
  try {
    return localStorage.getItem(STORAGE_KEY) === 'en' ? 'en' : 'zh-CN';
  } catch {
    return 'zh-CN';
  }
}

/** The 10-foot UI's own i18next instance: Chinese first, English second. */
export const tvI18n = createInstance();
const initial = savedLanguage();
void tvI18n.use(initReactI18next).init({
  resources: {
    'zh-CN': { translation: { tv: tvZh, grades: gradesZh, languages: languagesZh } },
    en: { translation: { tv: tvEn, grades: gradesEn, languages: languagesEn } },
  },
  lng: initial,
  fallbackLng: 'zh-CN',
  interpolation: { escapeValue: false },
  initAsync: false,
});
document.documentElement.lang = initial;

export function setTvLanguage(lang: TvLanguage): void {
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // a box without storage keeps the language until it restarts
  }
  document.documentElement.lang = lang;
  void tvI18n.changeLanguage(lang);
}
