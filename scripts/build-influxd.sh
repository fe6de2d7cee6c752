#!/usr/bin/env bash
# Build influxd (InfluxDB 2.x OSS) from its Go module at a pinned release, once per machine.
#
# No InfluxDB 2.x package exists for these machines, so Polis builds the server itself:
# the Go module is downloaded, copied to a writable tree (its go.mod has a `replace`, so
# `go install mod@ver` refuses it), and built with influxdata's pkg-config wrapper, which
# compiles libflux (Rust) with cargo on the first use.
#
# Result: $POLIS_CACHE/influxd-$VERSION/influxd (default POLIS_CACHE=~/.cache/polis).
# Prints the binary path on stdout; progress goes to stderr.
set -euo pipefail

VERSION="${INFLUXD_VERSION:-v2.7.12}"
CACHE="${POLIS_CACHE:-$HOME/.cache/polis}"
OUT_DIR="$CACHE/influxd-$VERSION"
BIN="$OUT_DIR/influxd"
MODULE="github.com/influxdata/influxdb/v2"

log() { printf '[build-influxd] %s\n' "$*" >&2; }

if [[ -x "$BIN" ]] && "$BIN" version >/dev/null 2>&1; then
  log "cached: $BIN ($("$BIN" version | head -n1))"
  echo "$BIN"
  exit 0
fi

for tool in go cargo; do
  command -v "$tool" >/dev/null || { log "missing tool: $tool"; exit 1; }
done
if ! ls /usr/lib/llvm-*/lib/libclang.so* >/dev/null 2>&1 && ! ldconfig -p | grep -q libclang; then
  log "libclang not found: bindgen (used by libflux) needs it; install Debian's libclang-dev"
  exit 1
fi

mkdir -p "$OUT_DIR"
START=$(date +%s)

log "downloading $MODULE@$VERSION"
DIR=$(go mod download -json "$MODULE@$VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')

SRC="$CACHE/src/influxdb-$VERSION"
if [[ ! -f "$SRC/go.mod" ]]; then
  rm -rf "$SRC"
  mkdir -p "$(dirname "$SRC")"
  cp -r "$DIR" "$SRC"
  chmod -R u+w "$SRC"
fi

# The wrapper builds libflux with cargo and hands its flags to cgo. libflux pins an old
# toolchain in rust-toolchain.toml: RUSTUP_TOOLCHAIN=stable keeps rustup from downloading it.
# Its crates deny warnings, so newer compiler lints would fail the build: every rustc call goes
# through a wrapper that caps lints at warn. (RUSTFLAGS=--cap-lints=warn is not enough: the
# wrapper passes --target to cargo, and then RUSTFLAGS skips the build script that compiles
# flux-core for the host.)
GOBIN_DIR="$CACHE/bin"
mkdir -p "$GOBIN_DIR"
PKG_CONFIG_VERSION=$(cd "$SRC" && go list -m -f '{{.Version}}' github.com/influxdata/pkg-config)
if [[ ! -x "$GOBIN_DIR/pkg-config-$PKG_CONFIG_VERSION" ]]; then
  log "building influxdata pkg-config wrapper $PKG_CONFIG_VERSION"
  (cd "$SRC" && go build -o "$GOBIN_DIR/pkg-config-$PKG_CONFIG_VERSION" github.com/influxdata/pkg-config)
fi
cat > "$GOBIN_DIR/rustc-cap-lints" <<'WRAP'
#!/bin/sh
exec "$@" --cap-lints=warn
WRAP
chmod +x "$GOBIN_DIR/rustc-cap-lints"

export PKG_CONFIG="$GOBIN_DIR/pkg-config-$PKG_CONFIG_VERSION"
export RUSTUP_TOOLCHAIN=stable
export RUSTC_WRAPPER="$GOBIN_DIR/rustc-cap-lints"
unset RUSTFLAGS
export CGO_ENABLED=1
export GOFLAGS="-buildvcs=false"

log "building influxd $VERSION (cold builds compile libflux and take a while)"
(
  cd "$SRC"
  go build \
    -tags 'sqlite_foreign_keys,sqlite_json' \
    -ldflags "-s -w -X main.version=${VERSION#v} -X main.commit=polis -X main.date=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    -o "$BIN.tmp" ./cmd/influxd
)
mv "$BIN.tmp" "$BIN"
log "built $BIN in $(( $(date +%s) - START ))s: $("$BIN" version | head -n1)"
echo "$BIN"
