// The English strings, a chunk of their own (i18n/index.ts loads it for readers of English).
import analyticsEn from './analytics.en.json';
import en from './en.json';
import liveEn from './live.en.json';
import manageEn from './manage.en.json';
import pairEn from './pair.en.json';
import qaEn from './qa.en.json';
import statusEn from './status.en.json';

export default {
  ...en,
  live: liveEn,
  analytics: analyticsEn,
  manage: manageEn,
  qa: qaEn,
  pair: pairEn,
  statusPage: statusEn,
};
