#!/usr/bin/env bash
# Runs the app at http://127.0.0.1:3000 with the built-in CARE backend and demo data
# (in ./data). Pass server flags through, e.g. `--upstream https://care.example.org`.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:/usr/local/bin:$PATH"
./scripts/setup.sh
cargo leptos build --release --precompress
export LEPTOS_SITE_ROOT="$PWD/target/site"
exec ./target/release/server --addr "${CARE_OFFLINE_ADDR:-127.0.0.1:3000}" --data-dir "${CARE_OFFLINE_DATA:-data}" "$@"
