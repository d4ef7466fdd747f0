/**
 * The admin's user search matches the start of stored keys, so one index answers it (an anchored prefix is
 * an index range; a regex anywhere in a name reads every account). An account's keys are its username, the
 * username's parts (`chen` in `family.chen`), its name and each word of it, and — Chinese names have no
 * spaces, and admins search 小明 for 王小明 — the rest of the name from each of its CJK characters.
 */

/** Enough keys for any real name; a 64-character run of Han characters stops here. */
const MAX_KEYS = 24;
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

/** What searching compares: full-width forms folded (ＡＢＣ → abc), lower case, spaces collapsed. */
export function normaliseSearch(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

/** Every key an account is found by (see above), each a normalised string, none repeated. */
export function searchKeys(username: string, displayName: string): string[] {
  const user = normaliseSearch(username);
  const name = normaliseSearch(displayName);
  const keys = new Set<string>([user, ...user.split(/[._-]+/), name, ...name.split(' ')]);
  const chars = [...name];
  chars.forEach((c, i) => {
    if (i > 0 && CJK.test(c)) keys.add(chars.slice(i).join(''));
  });
  return [...keys].filter((k) => k.length > 0).slice(0, MAX_KEYS);
}

/** The anchored pattern of a search: the text matched literally, from a key's start. */
export function searchPrefix(q: string): RegExp {
  return new RegExp(`^${normaliseSearch(q).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);
}
