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
import type { QaApi } from '../adapters/qa.client.js';
import { entrySec } from './channels.service.js';

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
    private readonly opts: TvQaOptions,
  ) {}

  async pairing(device: Device, req: TvQaPairingBody): Promise<TvQaPairing> {
    const lessonId = req.kind === 'vod' ? req.lessonId : await this.recordingOf(req);
    const pairing = await this.api.createPairing(householdOf(device), lessonId);
    return { ...pairing, url: `${this.opts.phonePageUrl}/${pairing.code}` };
  }

  reportPlayback(device: Device, code: string, body: PairingPlaybackBody): Promise<PairingPlaybackReply> {
    return this.api.reportPlayback(householdOf(device), code, body);
  }

  /** The api lesson a channel's programme airs (its recording): the Q&A room of that programme. */
  private async recordingOf(req: Extract<TvQaPairingBody, { kind: 'programme' }>): Promise<string> {
    const startSec = Date.parse(req.start) / 1000;
    const entries = await this.curriculum.programme(req.channelId).catch(() => {
      throw new AppError('DEPENDENCY_DOWN', 'the schedule is not answering; try again shortly');
    });
    const entry = entries.find((e) => e.lessonId === req.lessonId && entrySec(e, 'start') === startSec);
    if (!entry) throw new AppError('NOT_FOUND', 'no such programme on this channel');
    if (!entry.vodLessonId) throw new AppError('NOT_FOUND', 'this programme has no lesson to ask about');
    return entry.vodLessonId;
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
