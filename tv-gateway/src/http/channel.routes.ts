import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '@sky/contracts';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  CHANNEL_RUNGS,
  SLATE_KINDS,
  SLATE_TICKS_FILES,
  type Artwork,
  type ChannelRung,
} from '../services/artwork.js';
import type { ChannelService } from '../services/channels.service.js';

const HLS = 'application/vnd.apple.mpegurl';
const ChannelId = z.string().regex(/^[\w.-]{1,64}$/, 'a channel id');
const Rung = z.enum(CHANNEL_RUNGS.map((r) => r.name) as [string, ...string[]]);
/** catchup="append": the box appends ?utc=<programme start>&lutc=<its clock>, both Unix seconds. */
const CatchupQuery = z.object({
  utc: z.coerce.number().int().positive().optional(),
  lutc: z.coerce.number().int().positive().optional(),
  token: z.string().max(200).optional(),
});

/** Linear channels: master and media playlists (live or catch-up), slate segments, logos. */
export async function channelRoutes(
  app: FastifyInstance,
  { channels, artwork }: { channels: ChannelService; artwork: Artwork },
) {
  const http = app.withTypeProvider<ZodTypeProvider>();
  http.get(
    '/channels/:file',
    {
      schema: {
        params: z.strictObject({ file: z.string().regex(/^[\w.-]{1,64}\.m3u8$/, 'a .m3u8 name') }),
        querystring: CatchupQuery,
      },
    },
    async (req, reply) => {
      const id = req.params.file.slice(0, -'.m3u8'.length);
      const query = new URLSearchParams(req.query as Record<string, string>).toString();
      const text = await channels.master(id, query);
      return reply.type(HLS).header('cache-control', 'public, max-age=60').send(text);
    },
  );
  http.get(
    '/channels/:id/:file',
    {
      schema: {
        params: z.strictObject({ id: ChannelId, file: z.string().regex(/^\w+\.m3u8$/) }),
        querystring: CatchupQuery,
      },
    },
    async (req, reply) => {
      const rung = Rung.safeParse(req.params.file.slice(0, -'.m3u8'.length));
      if (!rung.success) throw new AppError('NOT_FOUND', `no rendition ${req.params.file}`);
      const text = await channels.playlist(req.params.id, rung.data as ChannelRung, req.query.utc);
      // A catch-up that has aired to its end never changes; live playlists and the catch-up of a
      // programme still on the air (EVENT) change every tick.
      const final = text.includes('#EXT-X-ENDLIST');
      return reply
        .type(HLS)
        .header('cache-control', final ? 'public, max-age=3600' : 'public, max-age=2')
        .send(text);
    },
  );
  http.get(
    '/catchup/lessons/:file',
    {
      schema: {
        params: z.strictObject({ file: z.string().regex(/^[\w.-]{1,64}\.m3u8$/, 'a lesson id + .m3u8') }),
      },
    },
    async (req, reply) =>
      reply.redirect(await channels.catchupByLesson(req.params.file.slice(0, -'.m3u8'.length))),
  );
  const slate = async (
    kind: (typeof SLATE_KINDS)[number],
    rung: string,
    file: string,
    reply: FastifyReply,
  ) => {
    const dir = await artwork.slateDir(rung as ChannelRung, kind);
    return reply
      .type('video/mp2t')
      .header('cache-control', 'public, max-age=31536000, immutable')
      .send(await readFile(join(dir, file)));
  };
  const SlateFile = z.strictObject({ rung: Rung, file: z.enum(SLATE_TICKS_FILES) });
  http.get('/slate/:rung/:file', { schema: { params: SlateFile } }, (req, reply) =>
    slate('break', req.params.rung, req.params.file, reply),
  );
  http.get('/slate/live/:rung/:file', { schema: { params: SlateFile } }, (req, reply) =>
    slate('live', req.params.rung, req.params.file, reply),
  );
  http.get(
    '/live/:lessonId/:rung/:file',
    {
      schema: {
        params: z.strictObject({
          lessonId: z.string().regex(/^[\w-]{1,64}$/, 'a lesson id'),
          rung: Rung,
          file: z.string().regex(/^\d{1,12}\.ts$/, 'a tick number + .ts'),
        }),
      },
    },
    async (req, reply) => {
      const tick = Number(req.params.file.slice(0, -'.ts'.length));
      const bytes = await channels.liveSegment(req.params.lessonId, req.params.rung as ChannelRung, tick);
      // a tick is cut once (settled) and never changes; edges may keep it as long as the slot's catch-up
      return reply.type('video/mp2t').header('cache-control', 'public, max-age=86400').send(bytes);
    },
  );
  http.get(
    '/logos/:file',
    { schema: { params: z.strictObject({ file: z.string().regex(/^[\w.-]{1,64}\.png$/) }) } },
    async (req, reply) => {
      const c = await channels.channel(req.params.file.slice(0, -4));
      const file = await artwork.logo(c.id, c.number, c.zh);
      return reply
        .type('image/png')
        .header('cache-control', 'public, max-age=86400')
        .send(await readFile(file));
    },
  );
}
