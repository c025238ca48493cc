#!/usr/bin/env bash
# Two release builds of `crossres` (A: the reference, B: a change) timed alternately, and the
# ratio of B's median time to A's per round and over all rounds (below 1: B is faster).
#
# usage: scripts/bench-ab.sh [--rounds N] [--iterations N] [--threads N] --filter TEXT BIN_A BIN_B
#
# Each round runs `crossres bench --filter TEXT` once with each binary, in the order A, B in odd
# rounds and B, A in even ones, so that a machine whose speed drifts over minutes (the hosts here
# swing by up to 1.5x) weighs on both alike; compare per-round ratios, not single figures.
# Build the two with separate scratch paths, e.g.
#     swift build -c release --scratch-path /tmp/build-a --product crossres   # at the base commit
#     swift build -c release --scratch-path /tmp/build-b --product crossres   # with the change
set -euo pipefail

rounds=6 iterations=5 threads="" filter=""
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds=$2; shift 2 ;;
        --iterations) iterations=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        --filter) filter=$2; shift 2 ;;
        -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "bench-ab: unknown option '$1' (see --help)" >&2; exit 2 ;;
        *) break ;;
    esac
done
if [ $# -ne 2 ] || [ -z "$filter" ]; then
    echo "bench-ab: needs --filter TEXT and two crossres binaries (see --help)" >&2
    exit 2
fi
for bin in "$1" "$2"; do
    [ -x "$bin" ] || { echo "bench-ab: '$bin' is not an executable crossres build" >&2; exit 2; }
done
"$1" bench --list --filter "$filter" > /dev/null || { echo "bench-ab: no case matches '$filter'" >&2; exit 2; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for round in $(seq "$rounds"); do
    order="a b"; [ $((round % 2)) -eq 0 ] && order="b a"
    for side in $order; do
        bin=$1; [ "$side" = b ] && bin=$2
        "$bin" bench --filter "$filter" --iterations "$iterations" ${threads:+--threads "$threads"} \
            --json "$out/$side-$round.json" > "$out/$side-$round.txt" 2>&1 \
            || { echo "bench-ab: $bin failed in round $round:" >&2; tail -5 "$out/$side-$round.txt" >&2; exit 1; }
    done
done

python3 - "$out" "$rounds" "$1" "$2" <<'PY'
import json, statistics, sys
out, rounds, a_bin, b_bin = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def medians(side, r):
    results = json.load(open(f"{out}/{side}-{r}.json"))["results"]
    return {f"{x['workload']} — {x['variant']}": x["seconds"]["median"] * 1000 for x in results}
a = [medians("a", r) for r in range(1, rounds + 1)]
b = [medians("b", r) for r in range(1, rounds + 1)]
print(f"A = {a_bin}\nB = {b_bin}\n{rounds} rounds; median ms per round, A / B, and B/A (below 1: B is faster)")
for case in a[0]:
    if not all(case in x for x in a + b):
        print(f"\n{case}: not in every run of both builds, skipped")
        continue
    ratios = [b[r][case] / a[r][case] for r in range(rounds)]
    print(f"\n{case}")
    print("  rounds: " + ", ".join(f"{a[r][case]:.2f} / {b[r][case]:.2f} = {ratios[r]:.3f}" for r in range(rounds)))
    print(f"  B/A median {statistics.median(ratios):.3f} (range {min(ratios):.3f}–{max(ratios):.3f}); "
          f"fastest runs A {min(x[case] for x in a):.2f} ms, B {min(x[case] for x in b):.2f} ms")
PY
