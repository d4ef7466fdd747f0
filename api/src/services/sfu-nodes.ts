// Which sfu nodes browsers may be sent to (issue 16): the pages' CSP connect-src and the per-lesson sfuUrl
// come from this one list, so the api never names a node the page would refuse to connect to.
import type { SfuNodeAsk } from '@sky/contracts';

/** The origins of the configured public sfu urls: SFU_PUBLIC_URL (the one-node default) and SFU_PUBLIC_URLS. */
export function sfuPublicOrigins(defaultUrl: string, listed: readonly string[] = []): string[] {
  return [...new Set([defaultUrl, ...listed].map((u) => new URL(u).origin))];
}

type NodeFor = (lessonId: string, ask: SfuNodeAsk) => Promise<string | undefined>;

/**
 * The sfu directory's answer when its origin is listed; otherwise none (the api answers its default node)
 * and one warning per url: a node whose SFU_PUBLIC_URL the api's config lacks is a deployment mistake,
 * and a directory entry pointing elsewhere must not steer browsers there.
 */
export function listedNodesOnly(
  nodeFor: NodeFor,
  origins: readonly string[],
  warn: (url: string) => void,
): NodeFor {
  const allowed = new Set(origins);
  const warned = new Set<string>();
  return async (lessonId, ask) => {
    const url = await nodeFor(lessonId, ask);
    if (url === undefined) return undefined;
    let origin: string | undefined;
    try {
      origin = new URL(url).origin;
    } catch {
      origin = undefined;
    }
    if (origin !== undefined && allowed.has(origin)) return url;
    if (!warned.has(url)) {
      warned.add(url);
      warn(url);
    }
    return undefined;
  };
}
