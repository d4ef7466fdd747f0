import {
  AppError,
  type AccessClaims,
  type Device,
  type PairingPlaybackBody,
  type PairingPlaybackReply,
  type TvQaPairing,
  type TvQaPairingBody,
} from '@sky/contracts';
import type { CurriculumSource } from '../adapters/curriculum.client.js';
import type { LiveSource } from '../adapters/live.client.js';
import type { QaApi } from '../adapters/qa.client.js';
import { entrySec } from './channels.service.js';
import { LIVE_DELAY_SEC } from './live-timeline.js';

export interface TvQaOptions {
  /** The web client's page a phone opens with a code: `${phonePageUrl}/${code}`. */
  phonePageUrl: string;
}

/**
 * Q&A beside a lesson on TV: the box shows a code (and a QR of the web page that claims it) for the lesson
 * on screen and reports where that lesson is, so a question asked from a phone carries the moment. The
 * box has only its device token; the gateway asks the api as the household the box belongs to.
 */
export class TvQaService {
  constructor(
    private readonly api: QaApi,
    private readonly curriculum: CurriculumSource,
    private readonly live: Pick<LiveSource, 'facts'>,
    private readonly opts: TvQaOptions,
  ) {}

  async pairing(device: Device, req: TvQaPairingBody): Promise<TvQaPairing> {
    const aired = req.kind === 'vod' ? undefined : await this.programme(req);
    const pairing = await this.api.createPairing(householdOf(device), aired?.lessonId ?? req.lessonId);
    return {
      ...pairing,
      url: `${this.opts.phonePageUrl}/${pairing.code}`,
      ...(aired ? { lessonStartAt: new Date(aired.startMs).toISOString() } : {}),
    };
  }

  reportPlayback(device: Device, code: string, body: PairingPlaybackBody): Promise<PairingPlaybackReply> {
    return this.api.reportPlayback(householdOf(device), code, body);
  }

  /**
   * The api lesson a channel's programme airs (its recording, or the live lesson), whose room its
   * questions go to, and when its second 0 is on the channel's clock.
   */
  private async programme(
    req: Extract<TvQaPairingBody, { kind: 'programme' }>,
  ): Promise<{ lessonId: string; startMs: number }> {
    const startSec = Date.parse(req.start) / 1000;
    const entries = await this.curriculum.programme(req.channelId).catch(() => {
      throw new AppError('DEPENDENCY_DOWN', 'the schedule is not answering; try again shortly');
    });
    const entry = entries.find((e) => e.lessonId === req.lessonId && entrySec(e, 'start') === startSec);
    if (!entry) throw new AppError('NOT_FOUND', 'no such programme on this channel');
    const lessonId = entry.vodLessonId;
    if (!lessonId) throw new AppError('NOT_FOUND', 'this programme has no lesson to ask about');
    if (entry.recording !== 'live') return { lessonId, startMs: startSec * 1000 };
    // taught live: its second 0 is the teacher's go-live, on the channel a fixed delay later
    const { startedAtMs } = await this.live.facts(lessonId).catch(() => {
      throw new AppError('DEPENDENCY_DOWN', 'the live lesson is not answering; try again shortly');
    });
    if (startedAtMs === undefined) throw new AppError('NOT_LIVE', 'the teacher has not started yet');
    return { lessonId, startMs: startedAtMs + LIVE_DELAY_SEC * 1000 };
  }
}

/**
 * The household as the api knows it. A box paired before the household's kind was kept is taken for a
 * family's: both may make codes, and the gateway's token for it never leaves the gateway.
 */
function householdOf(device: Device): AccessClaims {
  return {
    sub: device.householdId,
    role: device.householdRole ?? 'family',
    ...(device.grades.length === 1 ? { grade: device.grades[0]! } : {}),
    typ: 'access',
  };
}
