import { AppError } from '@sky/contracts';
import type * as mediasoup from 'mediasoup';
import { MEDIA_CODECS, type PickedWorker, type WorkerPool } from './mediasoup.js';
import type { MediaConsumer, MediaProducer, MediaRouter, MediaTransport, RoomMedia } from './room-media.js';

type Router = mediasoup.types.Router;
type Transport = mediasoup.types.Transport;

/** Handles are mediasoup's own objects (and the pool's) behind the port's types: here they get theirs back. */
const router = (r: MediaRouter) => r as Router;
const transport = (t: MediaTransport) => t as Transport;
const producer = (p: MediaProducer) => p as mediasoup.types.Producer;
const consumer = (c: MediaConsumer) => c as mediasoup.types.Consumer;

/** mediasoup refuses malformed parameters with TypeError / UnsupportedError: the client's fault. */
function refused(field: string, err: unknown): unknown {
  const name = (err as Error | undefined)?.name;
  return name === 'TypeError' || name === 'UnsupportedError'
    ? new AppError('VALIDATION_FAILED', `${field}: ${(err as Error).message}`)
    : err;
}

/**
 * RoomMedia on the worker pool. WebRTC transports listen on `listenIp` (UDP and TCP, UDP preferred) and
 * announce `announcedIp` when the sfu sits behind NAT; PlainTransports (tests, the bench) use UDP only.
 */
export function createMediasoupMedia(
  pool: WorkerPool,
  opts: {
    listenIp: string;
    announcedIp?: string | undefined;
    /** Where cascade links (PipeTransports to other sfu nodes) listen and what they announce. */
    pipeListenIp?: string | undefined;
    pipeAnnouncedIp?: string | undefined;
  },
): RoomMedia {
  const listen = (protocol: 'udp' | 'tcp') => ({
    protocol,
    ip: opts.listenIp,
    ...(opts.announcedIp ? { announcedAddress: opts.announcedIp } : {}),
  });
  return {
    pickWorker(avoid) {
      return pool.pick(avoid);
    },
    createRouter(worker) {
      return (worker as PickedWorker).worker.createRouter({ mediaCodecs: MEDIA_CODECS });
    },
    onWorkerDeath(r, listener) {
      router(r).on('workerclose', listener);
    },
    closeRouter(r) {
      router(r).close();
    },
    async pipe(from, producerId, to) {
      await router(from).pipeToRouter({ producerId, router: router(to), listenIp: '127.0.0.1' });
    },
    async observeSpeakers(r, listener) {
      const observer = await router(r).createActiveSpeakerObserver({ interval: 300 });
      observer.on('dominantspeaker', ({ producer: p }) => listener(p.id));
      return observer;
    },
    async addSpeaker(observer, producerId) {
      await (observer as mediasoup.types.ActiveSpeakerObserver).addProducer({ producerId });
    },

    async createWebRtcTransport(r, direction) {
      const t = await router(r).createWebRtcTransport({
        listenInfos: [listen('udp'), listen('tcp')],
        enableUdp: true,
        enableTcp: true,
        preferUdp: true,
        initialAvailableOutgoingBitrate: 1_000_000,
      });
      if (direction === 'send') await t.setMaxIncomingBitrate(3_000_000).catch(() => undefined);
      return t;
    },
    createPlainTransport(r, { comedia, rtcpMux }) {
      return router(r).createPlainTransport({
        listenInfo: { protocol: 'udp', ip: opts.listenIp },
        rtcpMux,
        comedia,
      });
    },
    async connectTransport(t, dtlsParameters) {
      await (t as mediasoup.types.WebRtcTransport)
        .connect({ dtlsParameters: dtlsParameters as mediasoup.types.DtlsParameters })
        .catch((e: unknown) => {
          throw refused('dtlsParameters', e);
        });
    },
    restartIce(t) {
      return (t as mediasoup.types.WebRtcTransport).restartIce();
    },
    closeTransport(t) {
      transport(t).close();
    },

    async produce(t, req, onTransportClose) {
      const p = await transport(t)
        .produce({
          kind: req.kind,
          rtpParameters: req.rtpParameters as mediasoup.types.RtpParameters,
          appData: req.appData,
        })
        .catch((e: unknown) => {
          throw refused('rtpParameters', e);
        });
      p.on('transportclose', onTransportClose);
      return p;
    },
    async setProducerPaused(p, paused) {
      if (paused) await producer(p).pause();
      else await producer(p).resume();
    },
    closeProducer(p) {
      producer(p).close();
    },

    canConsume(r, producerId, rtpCapabilities) {
      try {
        return router(r).canConsume({
          producerId,
          rtpCapabilities: rtpCapabilities as mediasoup.types.RtpCapabilities,
        });
      } catch (err) {
        throw refused('rtpCapabilities', err);
      }
    },
    async consume(t, req, events) {
      const c = await transport(t)
        .consume({
          producerId: req.producerId,
          rtpCapabilities: req.rtpCapabilities as mediasoup.types.RtpCapabilities,
          paused: true,
        })
        .catch((e: unknown) => {
          throw refused('rtpCapabilities', e);
        });
      c.observer.once('close', () => events.closed());
      c.on('producerclose', () => events.producerClosed());
      c.on('transportclose', () => events.transportClosed());
      return c;
    },
    async setConsumerPaused(c, paused) {
      if (paused) await consumer(c).pause();
      else await consumer(c).resume();
    },
    async setPreferredLayers(c, layers) {
      await consumer(c).setPreferredLayers(layers);
    },

    async createPipeTransport(r) {
      const t = await router(r).createPipeTransport({
        listenInfo: {
          protocol: 'udp',
          ip: opts.pipeListenIp ?? opts.listenIp,
          ...(opts.pipeAnnouncedIp ? { announcedAddress: opts.pipeAnnouncedIp } : {}),
        },
        // NACK and retransmission over the link (another host, a lossy network): both ends enable it
        enableRtx: true,
      });
      return Object.assign(t, {
        address: { ip: opts.pipeAnnouncedIp ?? t.tuple.localAddress, port: t.tuple.localPort },
      });
    },
    async connectPipe(t, remote) {
      await (t as unknown as mediasoup.types.PipeTransport).connect(remote);
    },
    async pipeConsume(t, producerId, events) {
      const c = await (t as unknown as mediasoup.types.PipeTransport).consume({ producerId });
      c.on('producerpause', () => events.paused(true));
      c.on('producerresume', () => events.paused(false));
      c.observer.once('close', () => events.closed());
      return c;
    },
    async pipeProduce(t, req) {
      return (t as unknown as mediasoup.types.PipeTransport).produce({
        id: req.id,
        kind: req.kind,
        rtpParameters: req.rtpParameters as mediasoup.types.RtpParameters,
        paused: req.paused,
        appData: req.appData,
      });
    },

    bridgeRouter: router,
    bridgeProducer: producer,
  };
}
