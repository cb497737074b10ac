#!/usr/bin/env bash
# Comparison run: our reference solvers against pinned external ones on identical instances.
#
#   bench/run.sh            full run (sizes: markets 4,16,64; indivisible markets 4,8,16;
#                           zero-sum 10,100,400; bimatrix 10,100,200,400; ours only, 20 seeds:
#                           three-player 4,8,16 actions, coalition 8,12,16 players)
#   bench/run.sh --quick    a smoke-sized run (one seed, smaller sizes, 3 reps)
#
# Environment: SEEDS (comma list, default 1,2,3), REPS (timed repetitions per instance,
# default 5), TIMEOUT (seconds per Gambit instance, default 60), OUT (output directory,
# default bench/out). Installs the references with bench/setup.sh if bench/.venv is missing.
# Writes OUT/instances/*.json, OUT/ours.jsonl, OUT/theirs.json and OUT/table.txt, and prints
# the table. Nothing is downloaded at run time except by setup.sh (PyPI, pinned).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"

quick=0
for arg in "$@"; do
    case "$arg" in
        --quick) quick=1 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "unknown argument: $arg" >&2; exit 2 ;;
    esac
done

if [ "$quick" = 1 ]; then
    SEEDS="${SEEDS:-1}"
    REPS="${REPS:-3}"
    market_sizes="4,16"
    milp_sizes="4"
    game_seeds="1,2"
    zero_sum_sizes="10,100"
    bimatrix_sizes="10,100"
else
    SEEDS="${SEEDS:-1,2,3}"
    REPS="${REPS:-5}"
    market_sizes="4,16,64"
    milp_sizes="4,8,16"
    game_seeds="1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20"
    zero_sum_sizes="10,100,400"
    bimatrix_sizes="10,100,200,400"
fi
TIMEOUT="${TIMEOUT:-60}"
OUT="${OUT:-$here/out}"

if [ ! -x "$here/.venv/bin/python" ]; then
    bash "$here/setup.sh"
fi

echo "== building (release)" >&2
cargo build --release --quiet -p pin-nash-bench --manifest-path "$root/Cargo.toml"
bin="$root/target/release/pin-nash-bench"

rm -rf "$OUT/instances"
mkdir -p "$OUT/instances"
echo "== writing instances to $OUT/instances (seeds $SEEDS)" >&2
"$bin" write --class simple-swap,constrained-swap --sizes 2 --seeds "$SEEDS" --out "$OUT/instances" 2>/dev/null
"$bin" write --class three-party,triangle --sizes "$market_sizes" --seeds "$SEEDS" --out "$OUT/instances" 2>/dev/null
"$bin" write --class triangle-indivisible --sizes "$milp_sizes" --seeds "$SEEDS" --out "$OUT/instances" 2>/dev/null
"$bin" write --class zero-sum --sizes "$zero_sum_sizes" --seeds "$SEEDS" --out "$OUT/instances" 2>/dev/null
"$bin" write --class bimatrix --sizes "$bimatrix_sizes" --seeds "$SEEDS" --out "$OUT/instances" 2>/dev/null
# No external reference for these (ours only); more seeds, for a p99 over many instances.
"$bin" write --class three-player --sizes 4,8,16 --seeds "$game_seeds" --out "$OUT/instances" 2>/dev/null
"$bin" write --class coalition --sizes 8,12,16 --seeds "$game_seeds" --out "$OUT/instances" 2>/dev/null

echo "== ours: $bin solve ($REPS reps)" >&2
"$bin" solve --reps "$REPS" "$OUT/instances" > "$OUT/ours.jsonl"

echo "== references: bench/compare.py" >&2
status=0
"$here/.venv/bin/python" "$here/compare.py" --instances "$OUT/instances" --ours "$OUT/ours.jsonl" \
    --reps "$REPS" --timeout "$TIMEOUT" --json "$OUT/theirs.json" > "$OUT/table.txt" || status=$?
cat "$OUT/table.txt"
exit "$status"
