import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import zhCN from './zh-CN.json';
// Feature strings live in their own files, under one top-level key each (t('live.…'), t('manage.…'), …);
// their English copies go with the English chunk (en.ts). The Chinese ones the first chunk's pages use
// (live: the lesson page and its badges; manage: the layout and sign-in) are here, the others are added by
// the chunks that use them (addFeatureStrings: ./qa, ./pair, ./analytics, ./status).
import liveZh from './live.zh-CN.json';
import manageZh from './manage.zh-CN.json';

export const LANGUAGES = ['zh-CN', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];
const STORAGE_KEY = 'sky.lang';

function savedLanguage(): Language {
  try {
    return localStorage.getItem(STORAGE_KEY) === 'en' ? 'en' : 'zh-CN';
  } catch {
    return 'zh-CN';
  }
}

// Chinese is in the first chunk; English is a chunk of its own, loaded by those who read it (about 11 kB
// compressed nobody else downloads).
void i18n.use(initReactI18next).init({
  resources: {
    'zh-CN': { translation: { ...zhCN, live: liveZh, manage: manageZh } },
  },
  lng: 'zh-CN',
  fallbackLng: 'zh-CN',
  interpolation: { escapeValue: false },
  initAsync: false,
});

/**
 * A feature's Chinese strings under its key, added when the chunk that says them loads (before any of its
 * components render): the first chunk carries none of them. English has them all in its own chunk.
 */
export function addFeatureStrings(key: string, zh: Record<string, unknown>): void {
  i18n.addResourceBundle('zh-CN', 'translation', { [key]: zh }, true, true);
}

async function load(lang: Language): Promise<void> {
  if (i18n.hasResourceBundle(lang, 'translation')) return;
  const { default: strings } = await import('./en');
  i18n.addResourceBundle(lang, 'translation', strings, true, true);
}

/** Switches the page's language, loading its strings first; the choice is kept for the next visit. */
export async function setLanguage(lang: Language): Promise<void> {
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // storage disabled: the choice lasts as long as the page
  }
  await load(lang);
  document.documentElement.lang = lang;
  await i18n.changeLanguage(lang);
}

/** Resolves once the saved language's strings are in: the app renders in it from the first frame. */
export const i18nReady: Promise<void> = (async () => {
  const initial = savedLanguage();
  if (initial !== 'zh-CN') await setLanguage(initial).catch(() => undefined);
  document.documentElement.lang = i18n.language;
})();

export default i18n;
