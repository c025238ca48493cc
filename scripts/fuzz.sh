#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ (address sanitizer + libFuzzer, release) and runs each
# for a bounded time on a scratch copy of its seed corpus (Fuzz/Corpus/<target>/); prints the
# executions per target and fails when a target finds a crash, leak, timeout or out-of-memory.
#
#   scripts/fuzz.sh [--seconds N] [--rss-mb N] [--scratch-path DIR] [--no-build] [--seeds] [target…]
#
# --seconds N   run time per target (default 60; CI uses 10)
# --seeds       regenerate Fuzz/Corpus with the project's own writers (fuzz-seeds) and gzip
# target…       e.g. fuzz-png fuzz-pickle (default: every Fuzz/Sources/fuzz-* but fuzz-seeds)
#
# A finding is written to $FUZZ_ARTIFACTS/<target>/ (default .build/fuzz); replay it with
# `<build>/release/<target> <file>`. FUZZ_BIN=<folder> runs already built targets from there. Docs/Reliability.md describes the targets.
# A reused --scratch-path may miss source files added to the package since its last build (the
# package is Fuzz/'s path dependency: "cannot find type … in scope"): remove the folder then.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=60 rss=2048 scratch=.build/fuzz-build build=1 seeds=0 targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) seconds=$2; shift 2 ;;
        --rss-mb) rss=$2; shift 2 ;;
        --scratch-path) scratch=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        --seeds) seeds=1; shift ;;
        -h|--help) sed -n '2,/^set /p' "$0" | sed '$d'; exit 0 ;;
        *) targets+=("$1"); shift ;;
    esac
done
if [ ${#targets[@]} -eq 0 ]; then
    for dir in Fuzz/Sources/fuzz-*; do
        name=$(basename "$dir")
        [ "$name" = fuzz-seeds ] || targets+=("$name")
    done
fi
flags=(-c release --package-path Fuzz --scratch-path "$scratch" -Xswiftc -sanitize=fuzzer,address)
if [ "$build" = 1 ]; then
    swift build "${flags[@]}" 2>&1 | grep -Ev "Cannot export local symbol '__asan_extra_spill_area'"
    built=${PIPESTATUS[0]}  # (with pipefail, `|| true` here would reset PIPESTATUS and hide a failed build)
    [ "$built" = 0 ] || { echo "fuzz: build FAILED"; exit 1; }
fi
bin=${FUZZ_BIN:-$(swift build "${flags[@]}" --show-bin-path)}
if [ "$seeds" = 1 ]; then
    ASAN_OPTIONS=detect_leaks=0 "$bin/fuzz-seeds" Fuzz/Corpus || { echo "fuzz: seed generation FAILED"; exit 1; }
    # gzip seeds (the project reads gzip but does not write it): text, an image, IDX files.
    mkdir -p Fuzz/Corpus/fuzz-gzip
    printf 'hello hello hello gzip\n' | gzip -9 -n > Fuzz/Corpus/fuzz-gzip/text.gz
    gzip -1 -n -c Fuzz/Corpus/fuzz-pnm/grey-text.pgm > Fuzz/Corpus/fuzz-gzip/pgm.gz
    gzip -9 -n -c Fuzz/Corpus/fuzz-digits-text/mnist.csv > Fuzz/Corpus/fuzz-gzip/csv.gz
    python3 - <<'PY'
import gzip
data = open("Fuzz/Corpus/fuzz-idx/two-digits", "rb").read()
images, labels = data.split(b"\n==\n", 1)
open("Fuzz/Corpus/fuzz-idx/two-digits-gzip", "wb").write(gzip.compress(images, mtime=0) + b"\n==\n" + gzip.compress(labels, mtime=0))
PY
fi
artifacts=${FUZZ_ARTIFACTS:-.build/fuzz}
status=0
printf '%-24s %12s %8s %8s  %s\n' target executions seconds corpus result
for target in "${targets[@]}"; do
    [ -x "$bin/$target" ] || { printf '%-24s %12s %8s %8s  %s\n' "$target" - - - "MISSING (not built)"; status=1; continue; }
    work=$(mktemp -d)
    [ -d "Fuzz/Corpus/$target" ] && cp -r "Fuzz/Corpus/$target/." "$work/"
    mkdir -p "$artifacts/$target"
    log="$artifacts/$target/last-run.log"
    start=$(date +%s)
    "$bin/$target" "$work" -max_total_time="$seconds" -rss_limit_mb="$rss" -malloc_limit_mb="$rss" -timeout=10 \
        -max_len=4096 -print_final_stats=1 -artifact_prefix="$artifacts/$target/" >"$log" 2>&1
    rc=$?
    elapsed=$(( $(date +%s) - start ))
    executions=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    corpus=$(find "$work" -type f | wc -l)
    if [ "$rc" = 0 ]; then result=ok; else result="FINDING (exit $rc, see $log)"; status=1; fi
    printf '%-24s %12s %8s %8s  %s\n' "$target" "${executions:-?}" "$elapsed" "$corpus" "$result"
    [ "$rc" = 0 ] || grep -E '^(==[0-9]+==ERROR|SUMMARY|Fatal error|fuzz property failed|artifact_prefix|Test unit written)' "$log" | head -8
    rm -rf "$work"
done
exit "$status"
