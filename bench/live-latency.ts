// Glass-to-glass latency of a live lesson, measured the way a viewer sees it: the fake teacher (ffmpeg)
// burns the wall clock into every frame as 24 black/white boxes (epoch ms mod 2^24) when the frame is
// made; the frame goes VP8 → mediasoup → the live bridge (decode, x264 ladder, HLS) → hls.js in Chromium,
// and the page reads the boxes back off the playing <video> and compares them with its own clock (same
// machine, same clock). The same is done for a WebRTC consumer in Chromium (mediasoup-client) on the same
// router. Also reported: now − EXT-X-PROGRAM-DATE-TIME of the playing position (hls.js playingDate), the
// figure players can compute without a burned clock (it misses what happens before ffmpeg's muxer starts).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { launchChromium, reserveRtcPorts } from '@sky/devkit';
import { build } from 'esbuild';
import * as mediasoup from 'mediasoup';
import { LiveBridge } from '../sfu/src/services/live-bridge.js';
import { CLOCK_BITS, clockBox, LIVE_TEST_CODECS, startFakeTeacher } from '../sfu/test/live-source.js';
import { LIVE_HLS_CONFIG } from '../web-client/src/live/hls-config.js';

const ROOT = join(import.meta.dirname, '..');
const SEGMENT_SEC = Number(process.env['LIVE_HLS_SEGMENT_SEC'] ?? 1);
/** The live page's own hls.js settings; BENCH_LIVE_SYNC_COUNT overrides how far behind the edge it plays. */
const HLS_CONFIG = {
  ...LIVE_HLS_CONFIG,
  ...(process.env['BENCH_LIVE_SYNC_COUNT']
    ? {
        liveSyncDurationCount: Number(process.env['BENCH_LIVE_SYNC_COUNT']),
        liveMaxLatencyDurationCount: Number(process.env['BENCH_LIVE_SYNC_COUNT']) + 4,
      }
    : {}),
};
const SYNC_COUNT = HLS_CONFIG.liveSyncDurationCount;
const SAMPLES = Number(process.env['BENCH_SAMPLES'] ?? 15);
const WARMUP_SEC = Number(process.env['BENCH_WARMUP_SECONDS'] ?? 5);
const TARGET_HLS_S = 4;
const SRC = { width: 640, height: 360 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return null;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

// runs in the page: reads the burned clock off a playing <video>; returns the latency in ms or null
const READ_CLOCK = `
window.clockLatency = (video) => {
  const w = video.videoWidth, h = video.videoHeight;
  if (!w || !h || video.readyState < 2) return null;
  const c = window.__c || (window.__c = document.createElement('canvas'));
  c.width = w; c.height = h;
  const ctx = c.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(video, 0, 0, w, h);
  const now = Date.now();
  const sx = w / ${SRC.width}, sy = h / ${SRC.height};
  const boxes = ${JSON.stringify(Array.from({ length: CLOCK_BITS }, (_, i) => clockBox(SRC.height, i)))};
  let v = 0;
  for (let i = 0; i < boxes.length; i++) {
    const b = boxes[i];
    const d = ctx.getImageData(Math.round((b.x + b.size / 2) * sx), Math.round((b.y + b.size / 2) * sy), 1, 1).data;
    if ((d[0] + d[1] + d[2]) / 3 > 128) v += 2 ** i;
  }
  const mod = 2 ** ${CLOCK_BITS};
  const lat = (((now % mod) - v) % mod + mod) % mod;
  return lat < 60000 ? lat : null;
};`;

async function main() {
  const mediaDir = mkdtempSync(join(tmpdir(), 'sky-bench-live-'));
  const [rtcMinPort, rtcMaxPort] = reserveRtcPorts();
  const worker = await mediasoup.createWorker({ logLevel: 'warn', rtcMinPort, rtcMaxPort });
  const router = await worker.createRouter({ mediaCodecs: LIVE_TEST_CODECS });
  const teacher = await startFakeTeacher(router, { clock: true, size: `${SRC.width}x${SRC.height}` });
  const lessonId = `bench${Date.now().toString(36)}`;
  const bridge = new LiveBridge(lessonId, router, {
    mediaDir,
    ffmpegPath: process.env['FFMPEG_PATH'] ?? 'ffmpeg',
    log: { info: () => undefined, warn: console.warn, error: (o, m) => console.error(m, o) },
    listenIp: '127.0.0.1',
    segmentSec: SEGMENT_SEC,
    listSize: 6,
  });
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent((req.url ?? '/').split('?')[0]!));
    if (path === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html>');
    const file = join(mediaDir, path);
    if (!file.startsWith(mediaDir) || !existsSync(file)) return void res.writeHead(404).end();
    const types: Record<string, string> = {
      '.m3u8': 'application/vnd.apple.mpegurl',
      '.m4s': 'video/iso.segment',
      '.mp4': 'video/mp4',
    };
    res.writeHead(200, {
      'content-type': types[extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-cache',
    });
    res.end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const browser = await launchChromium();
  const result: Record<string, unknown> = {};
  try {
    await bridge.update({ video: teacher.video, audio: teacher.audio });
    console.log(`[bench] bridge up (${SEGMENT_SEC} s segments); waiting for the first segments…`);
    const firstPlaylist = join(mediaDir, 'live', lessonId, 'web', '720p', 'index.m3u8');
    for (
      let i = 0;
      i < 100 && !/seg_/.test(existsSync(firstPlaylist) ? readFileSync(firstPlaylist, 'utf8') : '');
      i++
    )
      await sleep(200);

    // ---- HLS: hls.js with low-latency live settings ----
    const hlsPage = await browser.newPage();
    await hlsPage.goto(`${base}/`);
    await hlsPage.setContent('<video id="v" muted autoplay playsinline></video>');
    await hlsPage.addScriptTag({ path: join(ROOT, 'node_modules', 'hls.js', 'dist', 'hls.min.js') });
    await hlsPage.addScriptTag({ content: READ_CLOCK });
    await hlsPage.evaluate(`(() => {
      const hls = new Hls(${JSON.stringify(HLS_CONFIG)});
      window.hls = hls; window.stalls = 0;
      hls.on('hlsError', (_e, d) => { if (d.details === 'bufferStalledError') window.stalls++; if (d.fatal) window.fatal = d.details; });
      hls.loadSource(${JSON.stringify(`${base}/live/${lessonId}/web/master.m3u8`)});
      hls.attachMedia(document.getElementById('v'));
    })()`);
    await hlsPage.waitForFunction('document.getElementById("v").currentTime > 0', null, { timeout: 30_000 });
    await sleep(WARMUP_SEC * 1000);
    // how fast the bridge turns out media: below 1× real time (a starved CPU) the latency keeps growing
    const seen = new Map<string, number>();
    const readPlaylist = () => {
      const text = existsSync(firstPlaylist) ? readFileSync(firstPlaylist, 'utf8') : '';
      for (const m of text.matchAll(/#EXTINF:([\d.]+),\n(?:#EXT-X-PROGRAM-DATE-TIME:\S+\n)?(seg_\S+)/g))
        seen.set(m[2]!, Number(m[1]));
      return [...seen.values()].reduce((a, b) => a + b, 0);
    };
    const speedFrom = { wall: Date.now(), media: readPlaylist() };
    const hlsSamples: { clockMs: number | null; pdtMs: number | null; height: number }[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      hlsSamples.push(
        await hlsPage.evaluate<{ clockMs: number | null; pdtMs: number | null; height: number }>(`(() => {
          const v = document.getElementById('v');
          const pd = window.hls.playingDate;
          return { clockMs: window.clockLatency(v), pdtMs: pd ? Date.now() - pd.getTime() : null, height: v.videoHeight };
        })()`),
      );
      readPlaylist();
      await sleep(1000);
    }
    const bridgeSpeed = (readPlaylist() - speedFrom.media) / ((Date.now() - speedFrom.wall) / 1000);
    const hlsState = await hlsPage.evaluate<{ stalls: number; fatal?: string }>(
      '({ stalls: window.stalls, fatal: window.fatal })',
    );
    await hlsPage.close();

    // ---- WebRTC: mediasoup-client in Chromium, signalling through exposed functions ----
    let webrtcSamples: (number | null)[] = [];
    let webrtcNote: string | undefined;
    try {
      const bundle = await build({
        stdin: {
          contents: `import { Device } from 'mediasoup-client'; window.MediasoupDevice = Device;`,
          resolveDir: ROOT,
        },
        bundle: true,
        format: 'iife',
        platform: 'browser',
        write: false,
        logLevel: 'silent',
      });
      const transport = await router.createWebRtcTransport({
        listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }],
      });
      let consumer: mediasoup.types.Consumer | undefined;
      const rtcPage = await browser.newPage();
      await rtcPage.exposeFunction('sig', async (method: string, data: Record<string, unknown>) => {
        switch (method) {
          case 'caps':
            return router.rtpCapabilities;
          case 'transport':
            return {
              id: transport.id,
              iceParameters: transport.iceParameters,
              iceCandidates: transport.iceCandidates,
              dtlsParameters: transport.dtlsParameters,
            };
          case 'connect':
            await transport.connect({
              dtlsParameters: data['dtlsParameters'] as mediasoup.types.DtlsParameters,
            });
            return {};
          case 'consume':
            consumer = await transport.consume({
              producerId: teacher.video!.id,
              rtpCapabilities: data['rtpCapabilities'] as mediasoup.types.RtpCapabilities,
              paused: true,
            });
            return {
              id: consumer.id,
              producerId: consumer.producerId,
              kind: consumer.kind,
              rtpParameters: consumer.rtpParameters,
            };
          case 'resume':
            await consumer?.resume();
            return {};
          default:
            throw new Error(`unknown ${method}`);
        }
      });
      await rtcPage.goto(`${base}/`);
      await rtcPage.setContent('<video id="v" muted autoplay playsinline></video>');
      await rtcPage.addScriptTag({ content: bundle.outputFiles[0]!.text });
      await rtcPage.addScriptTag({ content: READ_CLOCK });
      await rtcPage.evaluate(`(async () => {
        const device = new window.MediasoupDevice();
        await device.load({ routerRtpCapabilities: await sig('caps', {}) });
        const recv = device.createRecvTransport(await sig('transport', {}));
        recv.on('connect', ({ dtlsParameters }, ok, fail) => sig('connect', { dtlsParameters }).then(ok, fail));
        const c = await recv.consume(await sig('consume', { rtpCapabilities: device.rtpCapabilities }));
        const v = document.getElementById('v');
        v.srcObject = new MediaStream([c.track]);
        await sig('resume', {});
        await v.play();
      })()`);
      await rtcPage.waitForFunction('document.getElementById("v").videoWidth > 0', null, { timeout: 20_000 });
      await sleep(3000);
      for (let i = 0; i < SAMPLES; i++) {
        webrtcSamples.push(
          await rtcPage.evaluate<number | null>(`window.clockLatency(document.getElementById('v'))`),
        );
        await sleep(300);
      }
      await rtcPage.close();
      transport.close();
    } catch (err) {
      webrtcNote = `WebRTC consumer failed: ${(err as Error).message.split('\n')[0]}`;
      webrtcSamples = [];
    }

    const clock = hlsSamples.map((s) => s.clockMs).filter((x): x is number => x !== null);
    const pdt = hlsSamples.map((s) => s.pdtMs).filter((x): x is number => x !== null);
    const rtc = webrtcSamples.filter((x): x is number => x !== null);
    const hlsMedian = median(clock);
    const rtcMedian = median(rtc);
    Object.assign(result, {
      hls_latency_s: hlsMedian === null ? null : Number((hlsMedian / 1000).toFixed(2)),
      hls_pdt_latency_s: median(pdt) === null ? null : Number((median(pdt)! / 1000).toFixed(2)),
      webrtc_latency_ms: rtcMedian === null ? null : Math.round(rtcMedian),
      target_hls_latency_s: TARGET_HLS_S,
      pass: hlsMedian !== null && hlsMedian / 1000 <= TARGET_HLS_S,
      method:
        'wall clock burned into the source frames (24-bit ms boxes), read back off the playing <video> in Chromium; median of samples',
      config: {
        segment_sec: SEGMENT_SEC,
        hls_js_live_sync_duration_count: SYNC_COUNT,
        ladder: '720p 1.8 Mbps + 360p 0.6 Mbps, x264 veryfast zerolatency, fMP4',
        source: `ffmpeg testsrc2 ${SRC.width}x${SRC.height}@25 VP8 (realtime, no lag) + Opus → PlainTransport producer`,
        samples: SAMPLES,
      },
      hls: {
        clock_ms: clock,
        pdt_ms: pdt,
        heights: [...new Set(hlsSamples.map((s) => s.height))],
        unreadable_samples: hlsSamples.length - clock.length,
        stalls: hlsState.stalls,
        bridge_speed_x_realtime: Number(bridgeSpeed.toFixed(2)),
        fatal: hlsState.fatal ?? null,
      },
      webrtc: {
        clock_ms: rtc,
        unreadable_samples: webrtcSamples.length - rtc.length,
        ...(webrtcNote ? { note: webrtcNote } : {}),
      },
      // 1-minute load average at the end: this machine is shared, and an overloaded encoder falls behind
      load_avg_1m: Number(loadavg()[0]!.toFixed(2)),
      at: new Date().toISOString(),
    });
  } finally {
    await browser.dispose();
    await bridge.stop().catch(() => undefined);
    await teacher.stop();
    worker.close();
    server.close();
    rmSync(mediaDir, { recursive: true, force: true });
  }
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', 'live-latency.json'), JSON.stringify(result, null, 2) + '\n');
  console.log(
    `[bench] hls_latency_s ${String(result['hls_latency_s'])} (target ≤ ${TARGET_HLS_S}; PDT-based ${String(result['hls_pdt_latency_s'])} s), ` +
      `webrtc_latency_ms ${String(result['webrtc_latency_ms'])}; bridge at ` +
      `${String((result['hls'] as { bridge_speed_x_realtime?: number } | undefined)?.bridge_speed_x_realtime)}× real time, ` +
      `load ${String(result['load_avg_1m'])}`,
  );
  console.log('[bench] wrote bench/results/live-latency.json');
}

await main();
