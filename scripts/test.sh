#!/usr/bin/env bash
# Runs every check and test, from a fresh clone: setup, contract artifacts up to date,
# formatting, lints, and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
echo "== contracts: rebuild and compare with the committed artifacts"
node contracts/build.mjs --check
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
