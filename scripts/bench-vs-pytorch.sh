#!/usr/bin/env bash
# PyTorch's reference workloads and `crossres bench`, run alternately in one invocation, and the
# ratio (CrossRes / PyTorch, higher is better) per workload.
#
# usage: scripts/bench-vs-pytorch.sh [--rounds N] [--threads N] [--iterations N] [--workloads "w1 w2 ..."] [--keep DIR]
# (--iterations: timed iterations per case on both sides; default each side's own)
#
# Needs python3 with torch — `pip install "torch==2.13.0+cpu"` where the machine's pip
# configuration carries that wheel, else `pip install torch` (a CUDA build, about 5 GB, that also
# runs on CPU) — and the PyTorch side of the workloads: ../shared/bench/pytorch/bench_torch.py
# relative to the repository, or TORCH_BENCH=/path/to/bench_torch.py.
# For W2-W5 PyTorch runs in NCHW and channels_last; the ratio is taken against the faster layout.
# OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are reported, then unset for CrossRes's runs.
# CROSSRES_BIN=/path/to/crossres uses that release build instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=3 threads=2 workloads="w1" keep="" iterations=""
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        --workloads) workloads=$2; shift 2 ;;
        --keep) keep=$2; shift 2 ;;
        --iterations) iterations=$2; shift 2 ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench-vs-pytorch: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done

torch_bench=${TORCH_BENCH:-../shared/bench/pytorch/bench_torch.py}
if [ ! -f "$torch_bench" ]; then
    echo "bench-vs-pytorch: PyTorch workload script not found at $torch_bench (set TORCH_BENCH)" >&2
    exit 2
fi
if ! python3 -c "import torch" 2>/dev/null; then
    echo "bench-vs-pytorch: PyTorch is not installed. Install it with" >&2
    echo "    pip install \"torch==2.13.0+cpu\" numpy    # where the pip configuration carries this wheel" >&2
    echo "    pip install torch numpy                   # otherwise (CUDA build, runs on CPU)" >&2
    exit 2
fi

if [ -n "${CROSSRES_BIN:-}" ]; then
    crossres=$CROSSRES_BIN   # a release build of crossres made elsewhere (e.g. another --scratch-path)
else
    swift build -c release --product crossres
    crossres=.build/release/crossres
fi
out=${keep:-$(mktemp -d)}
mkdir -p "$out"
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-<unset>} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-<unset>} (unset for CrossRes)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown); results in $out"

ours() {  # workload, round; a workload crossres bench does not have yet is skipped
    "$crossres" bench --list --filter "$1" > /dev/null 2>&1 || return 0
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$crossres" bench --filter "$1" --threads "$threads" ${iterations:+--iterations "$iterations"} \
        --json "$out/crossres-$1-$2.json" > "$out/crossres-$1-$2.txt" 2>&1
}
torch_run() {  # bench_torch.py arguments; prints the process's peak resident memory at the end
    python3 -c 'import resource, runpy, sys
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
print("# peak RSS MiB %.0f" % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))' "$torch_bench" "$@"
}
theirs() {  # workload, round
    torch_run --workload "$1" --threads "$threads" ${iterations:+--iters "$iterations"} --json "$out/torch-$1-$2.jsonl" > "$out/torch-$1-$2.txt"
    if [ "$1" != w1 ]; then
        torch_run --workload "$1" --threads "$threads" ${iterations:+--iters "$iterations"} --channels-last --json "$out/torch-$1-$2.jsonl" >> "$out/torch-$1-$2.txt"
    fi
}
for round in $(seq 1 "$rounds"); do
    for w in $workloads; do
        echo "round $round/$rounds: $w"
        if [ $((round % 2)) -eq 1 ]; then theirs "$w" "$round"; ours "$w" "$round"; else ours "$w" "$round"; theirs "$w" "$round"; fi
    done
done

python3 - "$out" "$rounds" "$workloads" <<'PY'
import json, statistics, sys
out, rounds, workloads = sys.argv[1], int(sys.argv[2]), sys.argv[3].split()
# (workload, label, PyTorch result name, PyTorch rate key, crossres case id). Add a row when
# `crossres bench` gains the workload; rows whose case does not exist yet are reported as such.
PAIRS = [
    ("w1", "W1 matmul 1024³", "W1 torch.mm 1024x1024x1024 (x10 per iter)", "GFLOP/s", "w1.matmul.1024.tensor"),
    ("w2", "W2 conv3x3 forward", "W2 conv3x3 64->64 56x56 b32 forward (no_grad)", "img/s", "w2.conv3x3.forward"),
    ("w2", "W2 conv3x3 forward+backward", "W2 conv3x3 64->64 56x56 b32 forward+backward", "img/s", "w2.conv3x3.backward"),
    ("w3", "W3 MobileFaceNet train step", "W3 MobileFaceNet 112 train step b64 (fwd+ArcFace+bwd+Adam)", "img/s", "w3.train"),
    ("w3", "W3 MobileFaceNet eval forward", "W3 MobileFaceNet 112 eval forward b64 (no_grad)", "img/s", "w3.eval"),
    ("w4", "W4 transfer step 112", "W4 transfer step 112x112 b64 (teacher fwd + student train)", "img/s", "w4.transfer"),
    ("w5", "W5a MobileFaceNet-32 train step", "W5a MobileFaceNet-32 32x32 train step b64", "img/s", "w5a.train"),
    ("w5", "W5b TinyResNet32 train step", "W5b TinyResNet32 32x32 train step b64", "img/s", "w5b.train"),
    ("w5", "W5c transfer step 32", "W5c transfer step 32x32 b64 (teacher fwd + student train)", "img/s", "w5c.transfer"),
]
def torch_rates(w, r):
    best = {}
    try:
        for line in open(f"{out}/torch-{w}-{r}.jsonl"):
            rec = json.loads(line)
            name = rec["name"].replace(" [channels_last]", "")
            for key, value in rec.items():
                if isinstance(value, dict) and "median" in value:
                    best[(name, key)] = max(best.get((name, key), 0), value["median"])
    except FileNotFoundError:
        pass
    return best
def torch_peaks(w, r):
    try:
        return [float(l.split()[-1]) for l in open(f"{out}/torch-{w}-{r}.txt") if l.startswith("# peak RSS MiB")]
    except FileNotFoundError:
        return []
def our_rates(w, r):
    try:
        doc = json.load(open(f"{out}/crossres-{w}-{r}.json"))
    except FileNotFoundError:
        return {}, {}
    return {e["id"]: e["rate"]["median"] for e in doc["results"]}, doc["machine"]
machine = None
peaks = {}
print(f"\n{'workload':<32}{'CrossRes':>18}{'PyTorch':>18}{'ratio':>8}   per round")
for w, label, name, key, case in PAIRS:
    if w not in workloads:
        continue
    ratios, mine, theirs_ = [], [], []
    for r in range(1, rounds + 1):
        ours, machine_r = our_rates(w, r)
        machine = machine or machine_r
        try:
            peaks.setdefault(w, (json.load(open(f"{out}/crossres-{w}-{r}.json")).get("peakResidentMiB"), torch_peaks(w, r)))
        except FileNotFoundError:
            pass
        t = torch_rates(w, r).get((name, key))
        if case in ours and t:
            mine.append(ours[case]); theirs_.append(t); ratios.append(ours[case] / t)
    if not ratios:
        print(f"{label:<32}{'(not in crossres bench yet)' if not mine else '(no PyTorch figure)':>36}")
        continue
    print(f"{label:<32}{statistics.median(mine):>10.1f} {key:<7}{statistics.median(theirs_):>10.1f} {key:<7}"
          f"{statistics.median(ratios):>7.2f}×   " + " ".join(f"{x:.2f}" for x in ratios))
for w, (mine, theirs_) in peaks.items():
    print(f"peak resident memory {w}: CrossRes {mine or 0:.0f} MiB, PyTorch " + " / ".join(f"{p:.0f}" for p in theirs_) + " MiB (NCHW / channels_last)")
def round_trips(w, r):
    try:
        t = json.load(open(f"{out}/crossres-{w}-{r}.json")).get("crossCoreRoundTripNs") or {}
    except FileNotFoundError:
        return None
    return "–".join("?" if t.get(k) is None else f"{t[k]:.0f}" for k in ("start", "end"))
print("\ncross-core round trip at the start–end of our run, ns, per round (on the AMD EPYC hosts, about 55–90: the two"
      " vCPUs on one die; about 320–350: on two, where threads that share data run slower; `crossres bench` documents it)")
for w in workloads:
    trips = [round_trips(w, r) for r in range(1, rounds + 1)]
    if any(trips):
        print(f"  {w}: " + ", ".join(t or "—" for t in trips))
if machine:
    detected = machine.get('openblasDetectedCore')
    chosen = f" (OpenBLAS detected {detected})" if detected and detected != machine.get('openblasCore') else ""
    print(f"\nCPU {machine.get('cpu')}; OpenBLAS core {machine.get('openblasCore')}{chosen}, "
          f"{machine.get('threads')} threads, build {machine.get('build')}")
PY
