import {
  ChannelGuide,
  Device,
  DeviceCodeResponse,
  DeviceTokenError,
  DeviceTokenResponse,
  GuideProgramme,
  Problem,
  TvChannel,
  TvLessonList,
  TvQaPairing,
  PairingPlaybackReply,
  type PairingPlaybackBody,
  type TvLesson,
  type TvQaPairingBody,
} from '@sky/contracts';

/**
 * The tv-gateway, reached by URLs relative to the page: the UI is served from the gateway's root, or
 * behind nginx under a prefix such as /tv/, and the same build works in both places.
 */

/** What a response body must parse as; every contract zod schema is one. */
interface Schema<T> {
  parse(data: unknown): T;
}

export type { TvLesson };

/** A refused or unanswered request; status 0 when the gateway could not be reached at all. */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'GatewayError';
  }
}

export interface PairedDevice {
  token: string;
  device: Device;
}

const DEVICE_KEY = 'sky.tv.device';
const SKIPPED_KEY = 'sky.tv.pairingSkipped';

function read(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key: string, value: string | null): void {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    // a box without storage pairs again after a restart
  }
}

export function loadDevice(): PairedDevice | null {
  const raw = read(DEVICE_KEY);
  if (!raw) return null;
  try {
    const parsed = JSON.parse(raw) as { token?: unknown; device?: unknown };
    const device = Device.safeParse(parsed.device);
    // Saved by an older build, or edited by hand: dropped, not trusted.
    if (typeof parsed.token !== 'string' || !device.success) return null;
    return { token: parsed.token, device: device.data };
  } catch {
    return null;
  }
}

export function saveDevice(paired: PairedDevice | null): void {
  write(DEVICE_KEY, paired ? JSON.stringify(paired) : null);
}

export const pairingSkipped = () => read(SKIPPED_KEY) === '1';
export const skipPairing = () => write(SKIPPED_KEY, '1');

/**
 * The lineup is public unless the operator requires device tokens. Requests go without the token (shared
 * caches can answer them) until the gateway refuses one; from then on they carry it, playlists too.
 */
let tokenRequired = false;

async function send(
  path: string,
  init: { method?: 'POST' | 'PUT'; body?: unknown; token?: string },
): Promise<Response> {
  try {
    return await fetch(path, {
      method: init.method ?? 'GET',
      headers: {
        accept: 'application/json, application/problem+json',
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
  } catch (err) {
    throw new GatewayError(0, err instanceof Error ? err.message : String(err));
  }
}

async function toError(res: Response): Promise<GatewayError> {
  try {
    const problem = Problem.safeParse(await res.json());
    return new GatewayError(res.status, problem.success ? problem.data.detail : res.statusText);
  } catch {
    return new GatewayError(res.status, res.statusText || `HTTP ${res.status}`);
  }
}

async function parse<T>(res: Response, schema: Schema<T>): Promise<T> {
  try {
    return schema.parse(await res.json());
  } catch (err) {
    // The gateway answered something this build does not understand: say so rather than show garbage.
    throw new GatewayError(res.status, err instanceof Error ? err.message : String(err));
  }
}

async function getLineup<T>(path: string, schema: Schema<T>): Promise<T> {
  const paired = loadDevice();
  let res = await send(path, tokenRequired && paired ? { token: paired.token } : {});
  if (res.status === 401 && paired && !tokenRequired) {
    tokenRequired = true;
    res = await send(path, { token: paired.token });
  }
  if (!res.ok) throw await toError(res);
  return parse(res, schema);
}

export const fetchChannels = () => getLineup('api/channels', TvChannel.array());

/** The gateway's default window: its today and tomorrow (by its clock, not the box's). */
export const fetchGuide = () => getLineup('api/guide', GuideProgramme.array());

/** One channel's guide from the first day of catch-up to tomorrow (the gateway's days). */
export const fetchChannelGuide = (channelId: string) =>
  getLineup(`api/channels/${encodeURIComponent(channelId)}/guide`, ChannelGuide);

export function fetchLessons(grade: string, subject?: string) {
  const q = new URLSearchParams({ grade, limit: '100' });
  if (subject !== undefined) q.set('subject', subject);
  return getLineup(`api/lessons?${q.toString()}`, TvLessonList);
}

/** A playlist URL as the box should request it: with the device token when the operator requires one. */
export function playableUrl(url: string): string {
  const paired = loadDevice();
  if (!tokenRequired || !paired) return url;
  return `${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(paired.token)}`;
}

export async function requestCode(): Promise<DeviceCodeResponse> {
  const res = await send('device/code', { method: 'POST', body: {} });
  if (!res.ok) throw await toError(res);
  return parse(res, DeviceCodeResponse);
}

export type PollResult =
  { ok: true; paired: DeviceTokenResponse } | { ok: false; error: DeviceTokenError['error'] };

/** One poll of the token endpoint (RFC 8628 §3.4): the token, or why not (yet). */
export async function pollToken(deviceCode: string): Promise<PollResult> {
  const res = await send('device/token', {
    method: 'POST',
    body: { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: deviceCode },
  });
  if (res.ok) return { ok: true, paired: await parse(res, DeviceTokenResponse) };
  if (res.status === 400) {
    const body = DeviceTokenError.safeParse(await res.json().catch(() => null));
    if (body.success) return { ok: false, error: body.data.error };
  }
  throw await toError(res);
}

/** The paired device as the gateway knows it now; null once the family has removed it. */
export async function fetchMe(token: string): Promise<Device | null> {
  const res = await send('device/me', { token });
  if (res.status === 401) return null;
  if (!res.ok) throw await toError(res);
  return parse(res, Device);
}

/** A Q&A code for the lesson on screen, made for this box's household (paired boxes only). */
export async function requestQaPairing(token: string, body: TvQaPairingBody): Promise<TvQaPairing> {
  const res = await send('device/qa/pairing', { method: 'POST', body, token });
  if (!res.ok) throw await toError(res);
  return parse(res, TvQaPairing);
}

/**
 * Where the lesson is on screen, for questions asked with the code: answers whether a phone holds the
 * code; a GatewayError with 404 once the code has expired.
 */
export async function reportQaPlayback(
  token: string,
  code: string,
  body: PairingPlaybackBody,
): Promise<PairingPlaybackReply> {
  const res = await send(`device/qa/pairing/${encodeURIComponent(code)}/playback`, {
    method: 'PUT',
    body,
    token,
  });
  if (!res.ok) throw await toError(res);
  return parse(res, PairingPlaybackReply);
}
