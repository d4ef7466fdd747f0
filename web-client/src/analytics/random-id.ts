// Ids a page makes for itself (events, sessions, queues, TV boxes): a module of its own, so a player can
// follow a session before the beacon queue is loaded. ES2019 library only: the TV bundle uses it too.

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** A random id of `n` URL-safe characters (22 ≈ 128 bits): event ids, session ids, box ids. */
export function randomId(n = 22): string {
  const bytes = new Uint8Array(n);
  if (typeof crypto !== 'undefined' && typeof crypto.getRandomValues === 'function') {
    crypto.getRandomValues(bytes);
  } else {
    for (let i = 0; i < n; i++) bytes[i] = Math.floor(Math.random() * 256);
  }
  let out = '';
  for (let i = 0; i < n; i++) out += ALPHABET[bytes[i]! & 63];
  return out;
}
