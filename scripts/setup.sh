#!/usr/bin/env bash
# Installs everything the build and the tests need, skipping what is present.
# Safe to run again: on a machine that has it all it takes about a second.
# This network refuses GitHub downloads, so nothing here (nor cargo-leptos at
# build time) may fetch from GitHub: every tool comes from crates.io, npm or apt.
# Set CARE_SETUP_SKIP_BROWSER=1 to skip Chromium, Playwright and PostgreSQL (the container
# builder, which runs no tests).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CARGO_LEPTOS_VERSION="0.3.11"
BINARYEN_VERSION="132.0.0"
BINARYEN_DIR="/opt/binaryen-npm"
export PATH="$HOME/.cargo/bin:/usr/local/bin:$PATH"

log() { printf '[setup %(%H:%M:%S)T] %s\n' -1 "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Tools are built with a quick release profile: they are not our product and
# their shipped profile (fat LTO, one codegen unit) doubles the build time.
quick_install() { # <crate dir>
  local tmp
  tmp="$(mktemp -d)"
  CARGO_TARGET_DIR="$tmp" \
  CARGO_PROFILE_RELEASE_LTO=false \
  CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
  CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
  CARGO_PROFILE_RELEASE_DEBUG=false \
    cargo install --path "$1" --locked --force "${@:2}"
  rm -rf "$tmp"
}

# Puts <crate>-<version> unpacked in a temp dir and prints its path.
unpack_crate() { # <crate> <version>
  local crate="$1" version="$2" file dir
  cargo info "$crate@$version" >/dev/null 2>&1 || true
  file="$(find "${CARGO_HOME:-$HOME/.cargo}/registry/cache" -name "$crate-$version.crate" | head -n1)"
  if [ -z "$file" ]; then
    echo "could not fetch $crate $version from the crate registry" >&2
    exit 1
  fi
  dir="$(mktemp -d)"
  tar -xzf "$file" -C "$dir"
  echo "$dir/$crate-$version"
}

# 0. wasm target
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# 1. Chromium for Playwright (never `playwright install`) and chromedriver for wasm tests
SKIP_BROWSER="${CARE_SETUP_SKIP_BROWSER:-0}"
if [ "$SKIP_BROWSER" != 1 ] && { [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; }; then
  log "installing Debian chromium and chromium-driver"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
fi

# 1b. PostgreSQL's server binaries for the store tests (each test starts a private cluster
# with initdb; no system cluster is created or started)
has_initdb() {
  command -v initdb >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}
if [ "$SKIP_BROWSER" != 1 ] && ! has_initdb; then
  log "installing PostgreSQL (server binaries only)"
  as_root mkdir -p /etc/postgresql-common
  echo "create_main_cluster = false" | as_root tee /etc/postgresql-common/createcluster.conf >/dev/null
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi

# 2. wasm-opt from npm binaryen (Debian's binaryen silently breaks the release wasm)
if ! /usr/local/bin/wasm-opt --version 2>/dev/null | grep -q "version ${BINARYEN_VERSION%%.*}"; then
  log "installing wasm-opt (npm binaryen@$BINARYEN_VERSION)"
  as_root mkdir -p "$BINARYEN_DIR"
  as_root npm install --silent --no-audit --no-fund --prefix "$BINARYEN_DIR" "binaryen@$BINARYEN_VERSION"
  as_root ln -sf "$BINARYEN_DIR/node_modules/binaryen/bin/wasm-opt" /usr/local/bin/wasm-opt
fi

# 3. cargo-leptos (its lock needs rustc 1.96 for cargo-util-schemas 0.14.2; 0.14.1 builds here)
if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
  log "building cargo-leptos $CARGO_LEPTOS_VERSION (about 8-13 minutes)"
  dir="$(unpack_crate cargo-leptos "$CARGO_LEPTOS_VERSION")"
  (cd "$dir" && cargo update -q -p cargo-util-schemas --precise 0.14.1)
  quick_install "$dir" --features no_downloads
  rm -rf "$(dirname "$dir")"
fi

# 4. wasm-bindgen-cli at exactly the version in Cargo.lock
wb_version="$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' "$ROOT/Cargo.lock")"
if [ -z "$wb_version" ]; then
  echo "Cargo.lock has no wasm-bindgen entry" >&2
  exit 1
fi
if ! wasm-bindgen --version 2>/dev/null | grep -q " $wb_version\$"; then
  log "building wasm-bindgen-cli $wb_version (about 2-3 minutes)"
  dir="$(unpack_crate wasm-bindgen-cli "$wb_version")"
  # the registry here does not serve webpki-roots 1.0.11
  (cd "$dir" && { cargo update -q -p webpki-roots --precise 1.0.10 2>/dev/null || true; })
  quick_install "$dir"
  rm -rf "$(dirname "$dir")"
fi

# 5. Playwright's npm packages (browser download disabled: we use Debian's chromium)
if [ "$SKIP_BROWSER" != 1 ] && [ ! -d "$ROOT/end2end/node_modules/@playwright/test" ]; then
  log "installing end2end npm packages"
  (cd "$ROOT/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --silent --no-audit --no-fund)
fi

log "toolchain ready"
