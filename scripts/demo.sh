#!/usr/bin/env bash
# The protocol demo: deploys PIN on a fresh embedded chain and walks one training run through
# staking, attestations, the challenge window, the claim and a slash, with the `pin` command;
# then five epochs of the NASH mechanism in process (`pin sim`).
# Usage: scripts/demo.sh [--rpc-url URL]   (default: the embedded chain in a temporary data dir)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
cargo build --release --locked -p pin-cli
PIN=target/release/pin
DATA=$(mktemp -d)
trap 'rm -rf "$DATA"' EXIT

step() {
    echo
    echo "\$ pin $*"
    "$PIN" --data-dir "$DATA" "$@"
}
refused() {
    echo
    echo "\$ pin $*    # expected to be refused"
    if "$PIN" --data-dir "$DATA" "$@"; then
        echo "demo: this should have been refused" >&2
        exit 1
    fi
}
digest() { printf '0x%064x' "$1"; }

step "$@" deploy
step "$@" --key dev:0 whitelist dev:1
step "$@" --key dev:0 mint dev:1 20000
refused "$@" --key dev:1 stake 5000
step "$@" --key dev:1 stake 10000
step "$@" --key dev:0 grant trainer dev:2
step "$@" --key dev:0 mint dev:2 1000
step "$@" --key dev:2 model register tiny-llm --budget 1000
step "$@" --key dev:2 run start 1
step "$@" --key dev:1 run join 1 --endpoint 127.0.0.1:9001
for i in $(seq 1 10); do
    step "$@" --key dev:1 run attest 1 "$(digest "$i")"
done
refused "$@" --key dev:3 run attest 1 "$(digest 99)"
step "$@" --key dev:2 run end 1
refused "$@" --key dev:1 claim
step "$@" dev advance-time 8d
step "$@" --key dev:1 claim
step "$@" --key dev:0 slash dev:1 2500 --evidence "$(digest 7)"
step "$@" --json status dev:1
step "$@" totals
echo
echo "== gas of the hot paths"
"$PIN" dev gas-report
echo
echo "== the NASH mechanism: five epochs of validators and miners in process (pin sim)"
"$PIN" sim --epochs 5
