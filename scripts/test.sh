#!/usr/bin/env bash
# Every test: formatting, clippy on both feature sets, Rust unit + integration tests,
# the release build, and Playwright in Debian Chromium. Installs the toolchain first.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:/usr/local/bin:$PATH"

step() { printf '\n==> %s\n' "$*"; }

step "toolchain"
./scripts/setup.sh

step "rustfmt"
cargo fmt --all --check

step "clippy (ssr: server + the demo backend + app)"
cargo clippy -p server -p care-mimic --all-targets -- -D warnings
step "clippy (hydrate: frontend + app, wasm32)"
cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings
step "clippy (app tests, pure logic)"
cargo clippy -p app --all-targets -- -D warnings

step "clippy (hydrate wasm tests)"
cargo clippy -p app --features hydrate --target wasm32-unknown-unknown --test idb_persister --test vault -- -D warnings

step "unit and server integration tests (PostgreSQL ones start a private cluster)"
cargo test -p app -p care-mimic -p server

step "wasm tests in headless Chromium (IndexedDB persister, the vault)"
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner CHROMEDRIVER=/usr/bin/chromedriver \
  cargo test -p app --features hydrate --target wasm32-unknown-unknown --test idb_persister --test vault

step "release build (server + wasm, hashed and precompressed)"
cargo leptos build --release --precompress

step "size budgets (brotli)"
node end2end/sizes.js

step "Playwright (Chromium)"
(cd end2end && npx playwright test)

printf '\nall tests passed\n'
