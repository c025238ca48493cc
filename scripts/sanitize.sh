#!/usr/bin/env bash
# Runs the kernel-heavy tests under AddressSanitizer (heap/stack overflows, use-after-free,
# leaks) and under ThreadSanitizer (data races in parallelFor, the prefetching loader and the
# kernels that use them); fails when a sanitizer reports anything.
#
#   scripts/sanitize.sh [address|thread]…      (default: both)
#
# Release builds (-c release, like scripts/test), one scratch folder per sanitizer
# (.build/sanitize-<name>); about 10 minutes for both on 2 cores. Docs/Reliability.md lists
# what runs and why.
set -uo pipefail
cd "$(dirname "$0")/.."
sanitizers=("$@")
[ ${#sanitizers[@]} -gt 0 ] || sanitizers=(address thread)

# Under ASan: the tensor kernels, the layers, and every parser, image operation and the loader.
address_filter='TensorTests|LayersTests|DatasetsTests'
# Under TSan (5–15× slower): everything that runs work on several threads.
thread_filter='TensorTests\.(ParallelTests|MatMulTests|DeterminismTests|BLASCoreTests)|LayersTests\.(conv|nested|winograd|phaseTaps|polyphase|batchNorm|batchSplit|fusedBatchNorm|fusedConv|fusedPReLU|oneShotStatistics|trainingBackward|gradientChecksOnOdd|epilogue|sequential|pooling|globalAveragePool)|DatasetsTests\.(loader|flipIsShared)|TrainingTests\.LoaderBatchesTests'

# Leaks LeakSanitizer reports outside the library, suppressed by a frame in their stack:
# - swift-foundation's Data(contentsOf:) keeps a 4 KiB read buffer of short files (the
#   library reads files with POSIX calls for this reason; the tests' helpers do not);
# - the tests' Subprocess helper (Foundation.Process leaves a weak reference behind) and
#   XCTest's runner objects (the XCTest half of `swift test`);
# - the static table of malformed files SafetensorsTests builds once (Data buffers that
#   LeakSanitizer does not see referenced).
suppressions=$(mktemp)
trap 'rm -f "$suppressions"' EXIT
# (Patterns are substrings of a frame's function or module; no leading `$`, which anchors.)
cat > "$suppressions" <<'LSAN'
leak:readBytesFromFile
leak:libXCTest.so
leak:s11TestSupport10SubprocessO3run
leak:s11TensorTests011SafetensorsB0V6prefix
leak:s11TensorTests011SafetensorsB0V9malformed_WZ
LSAN

status=0
for sanitizer in "${sanitizers[@]}"; do
    case "$sanitizer" in
        address) filter=$address_filter ;;
        thread) filter=$thread_filter ;;
        *) echo "sanitize: unknown sanitizer '$sanitizer' (address or thread)"; exit 2 ;;
    esac
    log=$(mktemp)
    start=$(date +%s)
    # halt_on_error: the first report fails the run; the tests' own preconditions are not findings.
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1} LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$suppressions:print_suppressions=0} TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1} \
        swift test -c release --sanitize="$sanitizer" --scratch-path ".build/sanitize-$sanitizer" --filter "$filter" 2>&1 \
        | grep -Ev "Cannot export local symbol '__asan_extra_spill_area'" | tee "$log"
    rc=${PIPESTATUS[0]}
    reports=$(grep -cE '^(==[0-9]+==ERROR: |WARNING: ThreadSanitizer|SUMMARY: (Address|Thread|Leak)Sanitizer)' "$log")
    passed=$(grep -E '✔ Test .* passed after' "$log" | grep -vc 'Test run with')
    failed=$(grep -E '✘ Test .* failed after' "$log" | grep -vc 'Test run with')
    echo "sanitize $sanitizer: $passed passed, $failed failed, $reports sanitizer reports, $(( $(date +%s) - start )) s"
    [ "$rc" = 0 ] && [ "$reports" = 0 ] || status=1
    rm -f "$log"
done
exit "$status"
