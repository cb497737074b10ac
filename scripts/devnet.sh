#!/usr/bin/env bash
# The main job: the whole PIN network on this machine (`pin devnet`). An embedded chain with the
# contracts deployed fresh, two validators, eight miners with different strategies, the intent
# gateway with parties trading compute, a trainer whose run's nodes attest, and the dashboard at
# http://127.0.0.1:8080. Runs until Ctrl-C; arguments go to `pin devnet`, e.g.
#   scripts/devnet.sh --epochs 3            # stop after three finalised epochs
#   scripts/devnet.sh --rpc-url http://127.0.0.1:8545   # against anvil instead
# State lives in $PIN_DATA_DIR/devnet (default .pin/devnet), wiped at each start unless
# --resume is given (continue the devnet there, e.g. after a crash).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
cargo build --release --locked -p pin-cli
rpc=()
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --rpc-url) rpc=(--rpc-url "$2"); shift 2 ;;
        --rpc-url=*) rpc=("$1"); shift ;;
        *) args+=("$1"); shift ;;
    esac
done
exec target/release/pin --data-dir "${PIN_DATA_DIR:-.pin}" "${rpc[@]}" devnet "${args[@]}"
