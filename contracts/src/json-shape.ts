import { AppError } from './problem.js';

/**
 * Keys no JSON document of ours has and that reach into Object.prototype when code indexes objects by
 * them (`__proto__`, `constructor`, `toString`, `valueOf`, …): refused wherever JSON is read as text.
 */
const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));

/** Deeper than any document of ours (a plan is 4 levels deep): such nesting only exhausts the stack. */
export const JSON_MAX_DEPTH = 32;

/**
 * Refuses a parsed JSON value with a prototype key or nesting deeper than `maxDepth`, as a 400 naming the
 * field (`body.term.toString`). Walks with its own stack, so no document is too deep for the check itself.
 */
export function assertPlainJson(value: unknown, opts: { root?: string; maxDepth?: number } = {}): void {
  const root = opts.root ?? 'body';
  const maxDepth = opts.maxDepth ?? JSON_MAX_DEPTH;
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: at, path } = stack.pop()!;
    if (at === null || typeof at !== 'object') continue;
    if (path.length >= maxDepth) {
      const shown = path.length > 6 ? [...path.slice(0, 6), '…'] : path;
      throw refused([root, ...shown].join('.'), `nested deeper than ${maxDepth} levels`);
    }
    if (Array.isArray(at)) {
      at.forEach((item, i) => stack.push({ value: item, path: [...path, i] }));
      continue;
    }
    for (const key of Object.keys(at)) {
      if (PROTOTYPE_KEYS.has(key)) {
        throw refused([root, ...path, key].join('.'), `"${key}" is not a field here`);
      }
      stack.push({ value: (at as Record<string, unknown>)[key], path: [...path, key] });
    }
  }
}

function refused(path: string, message: string): AppError {
  return new AppError('VALIDATION_FAILED', `${path}: ${message}`, { errors: [{ path, message }] });
}
