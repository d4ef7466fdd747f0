// What sfu nodes tell each other to cascade a lesson (internal routes, shared secret): the edge opens a
// link to the origin with its pipe address; the origin answers with its own and the producers piped so
// far, then pushes every change of them to the edge.
import { ProducerInfo, RoomEnded, RtpParameters } from '@sky/contracts';
import { z } from 'zod';

/** The header carrying CASCADE_SECRET on every internal request. */
export const CASCADE_SECRET_HEADER = 'x-sky-cascade-secret';

const PipeAddress = z.object({ ip: z.string().min(1), port: z.number().int().min(1).max(65535) });

export const PipedProducer = z.object({
  info: ProducerInfo,
  /** The origin's pipe consumer's parameters: the edge's pipe producer takes them as they are. */
  rtpParameters: RtpParameters,
});
export type PipedProducer = z.infer<typeof PipedProducer>;

export const LinkRequest = z.object({
  nodeId: z.string().min(1),
  internalUrl: z.string().min(1),
  pipe: PipeAddress,
});
export type LinkRequest = z.infer<typeof LinkRequest>;

export const LinkReply = z.object({ pipe: PipeAddress, producers: z.array(PipedProducer) });
export type LinkReply = z.infer<typeof LinkReply>;

export const CascadeEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('producer.new'), producer: PipedProducer }),
  z.object({ type: z.literal('producer.closed'), producerId: z.string() }),
  z.object({ type: z.literal('producer.state'), producerId: z.string(), paused: z.boolean() }),
  z.object({ type: z.literal('room.ended'), ended: RoomEnded }),
]);
export type CascadeEvent = z.infer<typeof CascadeEvent>;

/** A viewer without WebRTC (the bench, tests): RTP to a UDP address through a PlainTransport. */
export const PlainViewerRequest = z.object({
  token: z.string().min(1),
  lessonId: z.string().min(1),
  rtp: PipeAddress,
});
export type PlainViewerRequest = z.infer<typeof PlainViewerRequest>;
