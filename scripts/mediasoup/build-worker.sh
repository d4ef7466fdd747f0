#!/usr/bin/env bash
# Builds mediasoup-worker offline against Debian 12 libraries and prints the path of the binary.
# The npm package cannot download its prebuilt worker nor its meson wraps here, so we replace every
# worker/subprojects/*.wrap by a local shim (scripts/mediasoup/shims) around the Debian library.
# The result is cached outside the repo, keyed by mediasoup version + a hash of this recipe, so a
# second setup (or a fresh clone on the same machine) reuses it in milliseconds.
# Usage: build-worker.sh            → prints the cached binary path (builds it when missing)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
MS_PKG="$ROOT/node_modules/mediasoup"
[ -f "$MS_PKG/package.json" ] || MS_PKG="$ROOT/sfu/node_modules/mediasoup"
[ -f "$MS_PKG/package.json" ] || { echo "[mediasoup] the mediasoup package is not installed (run npm ci)" >&2; exit 1; }
VERSION=$(node -p "require('$MS_PKG/package.json').version")
RECIPE_HASH=$( (cat "$HERE/build-worker.sh"; find "$HERE/shims" -type f | LC_ALL=C sort | xargs cat) | sha256sum | cut -c1-12)
CACHE_ROOT=${SKY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sky-classroom}
KEY="$VERSION-$RECIPE_HASH"
OUT="$CACHE_ROOT/mediasoup-worker/$KEY"
BIN="$OUT/mediasoup-worker"

if [ -x "$BIN" ]; then echo "$BIN"; exit 0; fi

echo "[mediasoup] building worker $VERSION (recipe $RECIPE_HASH) offline; about 7 minutes on 2 cores" >&2
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ms-worker-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cp -a "$MS_PKG/worker" "$WORK/worker"
W="$WORK/worker"

# 1. Local shim subprojects instead of the downloading .wrap files.
rm -f "$W"/subprojects/*.wrap
cp -a "$HERE/shims/." "$W/subprojects/"

# 2. Debian 12 ships meson 1.0.1; mediasoup declares >= 1.1.0 but builds with 1.0.1.
sed -i "s/meson_version: '>= 1.1.0'/meson_version: '>= 1.0.0'/" "$W/meson.build"

# 3. With a KTLS-enabled OpenSSL (Debian's libssl3) the BIO callback must test the BIO_CB_RETURN bit,
#    not equality, or libssl never allocates its write buffer and the worker SIGSEGVs at DTLS connect.
sed -i 's/(operationType == BIO_CB_RETURN) ? static_cast<long>(ret) : 1;/(operationType \& BIO_CB_RETURN) ? static_cast<long>(ret) : 1;/' \
  "$W/src/RTC/DtlsTransport.cpp"
grep -q '(operationType & BIO_CB_RETURN)' "$W/src/RTC/DtlsTransport.cpp" || {
  echo "[mediasoup] the DTLS BIO patch did not apply to mediasoup $VERSION" >&2; exit 1; }

# 4. Configure like mediasoup's own Release build; generate FlatBuffers headers first (the worker
#    target does not depend on them), then the worker.
cd "$W"
meson setup "$WORK/build" --wrap-mode=nodownload --buildtype release -Db_ndebug=true >"$WORK/setup.log" 2>&1 || {
  tail -40 "$WORK/setup.log" >&2; echo "[mediasoup] meson setup failed" >&2; exit 1; }
meson compile -C "$WORK/build" -j "$(nproc)" flatbuffers-generator >"$WORK/build.log" 2>&1 &&
  meson compile -C "$WORK/build" -j "$(nproc)" mediasoup-worker >>"$WORK/build.log" 2>&1 || {
  tail -40 "$WORK/build.log" >&2; echo "[mediasoup] worker build failed" >&2; exit 1; }
mkdir -p "$OUT"
install -m 0755 "$WORK/build/mediasoup-worker" "$OUT/mediasoup-worker.tmp"
strip "$OUT/mediasoup-worker.tmp"
mv "$OUT/mediasoup-worker.tmp" "$BIN"
echo "[mediasoup] worker ready: $BIN" >&2
echo "$BIN"
