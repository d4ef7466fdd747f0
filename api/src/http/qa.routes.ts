import {
  AnswerBody,
  FaqQuery,
  InboxQuery,
  LessonParams,
  PairingBody,
  PairingClaimBody,
  PairingCodeParams,
  PairingPlaybackBody,
  QuestionListQuery,
  QuestionParams,
} from '@sky/contracts';
import { actorOf } from '@sky/contracts/http';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { QaService } from '../services/qa.service.js';

/** Q&A over HTTP: pages and the FAQ for clients without a socket, the teacher's inbox, TV pairing. */
export function qaRoutes(
  qa: QaService,
  online: (lessonId: string) => Promise<number>,
): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/lessons/:id/questions',
      {
        config: { access: 'authenticated' },
        schema: { params: LessonParams, querystring: QuestionListQuery },
      },
      (req) => qa.page(actorOf(req), req.params.id, req.query),
    );
    app.get(
      '/api/lessons/:id/faq',
      { config: { access: 'authenticated' }, schema: { params: LessonParams, querystring: FaqQuery } },
      (req) => qa.faq(actorOf(req), req.params.id, req.query),
    );
    app.get(
      '/api/lessons/:id/qa/audit',
      { config: { access: ['teacher', 'admin'] }, schema: { params: LessonParams } },
      (req) => qa.audit(actorOf(req), req.params.id),
    );
    app.get(
      '/api/lessons/:id/qa/stats',
      { config: { access: ['teacher', 'admin'] }, schema: { params: LessonParams } },
      (req) => qa.stats(actorOf(req), req.params.id, online),
    );
    app.get(
      '/api/qa/inbox',
      { config: { access: ['teacher', 'admin'] }, schema: { querystring: InboxQuery } },
      (req) => qa.inbox(actorOf(req), req.query),
    );
    app.post(
      '/api/qa/questions/:id/answer',
      { config: { access: ['teacher', 'admin'] }, schema: { params: QuestionParams, body: AnswerBody } },
      (req) => qa.answer(actorOf(req), { questionId: req.params.id, text: req.body.text }),
    );
    app.post(
      '/api/qa/pairing',
      { config: { access: ['family', 'student'] }, schema: { body: PairingBody } },
      async (req, reply) => reply.code(201).send(await qa.createPairing(actorOf(req), req.body.lessonId)),
    );
    app.post(
      '/api/qa/pairing/claim',
      { config: { access: 'authenticated' }, schema: { body: PairingClaimBody } },
      (req) => qa.claimPairing(actorOf(req), req.body.code),
    );
    app.get(
      '/api/qa/pairing/:code',
      { config: { access: 'authenticated' }, schema: { params: PairingCodeParams } },
      (req) => qa.pairing(actorOf(req), req.params.code),
    );
    app.put(
      '/api/qa/pairing/:code/playback',
      {
        config: { access: ['family', 'student'] },
        schema: { params: PairingCodeParams, body: PairingPlaybackBody },
      },
      (req) => qa.reportPlayback(actorOf(req), req.params.code, req.body),
    );
  };
}
