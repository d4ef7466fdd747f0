import { SIMULCAST_ENCODINGS } from '@sky/contracts';

export interface LayerHint {
  spatialLayer?: number | undefined;
  temporalLayer?: number | undefined;
  viewport?: { width: number; height: number } | undefined;
  bandwidthKbps?: number | undefined;
}

export interface Layers {
  spatialLayer: number;
  temporalLayer?: number;
}

/** The picture height each simulcast layer is good for, for a 720p camera (÷4, ÷2, ÷1). */
const LAYER_HEIGHT = [180, 360, 720];

/**
 * A viewer's hints → the simulcast layers to forward. Explicit layers win; otherwise the smallest layer
 * that still fills the viewport, capped by what the measured bandwidth carries (20% headroom). Below the
 * lowest layer's bitrate only the base temporal layer is sent (a lower frame rate, not a frozen picture).
 */
export function chooseLayers(hint: LayerHint, spatialLayers: number = SIMULCAST_ENCODINGS.length): Layers {
  const top = Math.max(0, spatialLayers - 1);
  const clamp = (n: number) => Math.min(top, Math.max(0, n));
  if (hint.spatialLayer !== undefined) {
    return {
      spatialLayer: clamp(hint.spatialLayer),
      ...(hint.temporalLayer !== undefined ? { temporalLayer: hint.temporalLayer } : {}),
    };
  }
  let spatial = top;
  if (hint.viewport) {
    const h = Math.min(hint.viewport.height, (hint.viewport.width * 9) / 16);
    const fit = LAYER_HEIGHT.findIndex((lh) => lh * 1.25 >= h);
    spatial = clamp(fit === -1 ? top : fit);
  }
  if (hint.bandwidthKbps !== undefined) {
    const kbps = hint.bandwidthKbps;
    let byBandwidth = 0;
    SIMULCAST_ENCODINGS.forEach((e, i) => {
      if ((e.maxBitrate / 1000) * 1.2 <= kbps) byBandwidth = i;
    });
    spatial = Math.min(spatial, clamp(byBandwidth));
    if (kbps < SIMULCAST_ENCODINGS[0].maxBitrate / 1000) return { spatialLayer: 0, temporalLayer: 0 };
  }
  return { spatialLayer: spatial };
}
