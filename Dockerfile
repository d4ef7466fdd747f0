# One image for every Node service (the service is chosen by the compose `command`).
# Build stage: Debian bookworm, as the offline recipe expects (mediasoup worker built from Debian libraries).
FROM node:20-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
      g++ make python3 binutils meson ninja-build pkg-config libuv1-dev libssl-dev libsrtp2-dev libusrsctp-dev \
      libabsl-dev libflatbuffers-dev flatbuffers-compiler liburing-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
RUN MEDIASOUP_WORKER_BIN=/skip-download npm ci --no-audit --no-fund \
 && SKY_CACHE_DIR=/opt/sky bash scripts/mediasoup/build-worker.sh > /tmp/worker-path \
 && install -D "$(cat /tmp/worker-path)" /opt/mediasoup-worker \
 && npx tsc -b && npm run build -w web-client

FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg fonts-noto-cjk libuv1 libssl3 libsrtp2-1 libusrsctp2 \
      libabsl20220623 liburing2 ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app /app
COPY --from=build /opt/mediasoup-worker /opt/mediasoup-worker
ENV NODE_ENV=production MEDIASOUP_WORKER_BIN=/opt/mediasoup-worker
USER node
