#!/usr/bin/env python3
"""PyTorch's side of `crossres bench --filter layers`: TinyResNet32's convolutions one at a time
at batch 64, forward + backward of `y.sum()` (input and weight gradients; the 3-channel stem has
no input gradient), MobileFaceNet-32's grouped and depthwise 3x3 and its 1x1 convolutions one at a
time (forward without gradients), and MobileFaceNet-32's eval forward (W5c's teacher), in NCHW and
channels_last. Prints the median and fastest milliseconds per case.

The W5 benchmark runs W5c after W5a's and W5b's training steps, whose freed tensors leave glibc's
heap large and its mmap threshold raised: W5c's large tensors then come from the heap without
page faults. A fresh process maps and faults in every tensor above 128 KiB instead (the teacher's
eval forward took 270-280 ms there against 187 ms after W5a's steps, session 20). So this script
runs with glibc's thresholds raised (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_; re-executing
itself to set them) to time PyTorch as the benchmark's W5c runs it; --cold keeps glibc's defaults.

usage: python3 scripts/bench-layers-pytorch.py [--threads 2] [--iterations 10] [--cold]
(MobileFaceNet-32 comes from ../shared/bench/pytorch/models.py, or TORCH_BENCH's directory.)
"""
import argparse, os, statistics, sys, time

import torch

LAYERS = [(3, 32, 3, 1, 32), (32, 32, 3, 1, 32), (32, 64, 3, 1, 32), (64, 64, 3, 2, 32), (32, 64, 1, 2, 32),
          (64, 128, 3, 1, 16), (128, 128, 3, 2, 16), (64, 128, 1, 2, 16), (128, 256, 3, 1, 8), (256, 256, 3, 2, 8),
          (128, 256, 1, 2, 8)]
# MobileFaceNet-32's grouped and depthwise 3x3 convolutions: channels, groups, stride, input side.
DEPTHWISE = [(128, 64, 1, 32), (128, 128, 2, 32), (128, 128, 1, 16), (256, 256, 2, 16), (256, 256, 1, 8), (512, 512, 2, 8),
             (256, 256, 1, 4)]
# MobileFaceNet-32's 1x1 convolutions: input channels, output channels, side, how many the teacher runs.
POINTWISE = [(128, 128, 32, 1), (128, 128, 16, 9), (128, 256, 16, 1), (256, 256, 8, 13), (256, 512, 8, 1), (512, 256, 4, 1),
             (256, 256, 4, 4), (256, 512, 4, 1)]
# glibc's thresholds for a warm heap (see the module's text): 64 MiB for mmap, 1 GiB before trimming.
WARM_HEAP = {"MALLOC_MMAP_THRESHOLD_": str(64 << 20), "MALLOC_TRIM_THRESHOLD_": str(1 << 30)}


def timed(step, iterations, warmup=3):
    for _ in range(warmup):
        step()
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), min(times)


def in_layout(channels_last, module, x):
    """`module` and `x`, in torch.channels_last memory format when asked."""
    if channels_last:
        return module.to(memory_format=torch.channels_last), x.to(memory_format=torch.channels_last)
    return module, x


def report(name, make_step, iterations):
    """Times the step `make_step(channels_last)` builds, in NCHW and channels_last; prints one row."""
    row = [timed(make_step(channels_last), iterations) for channels_last in (False, True)]
    print(f"{name:<44} {row[0][0]:9.2f} ({row[0][1]:.2f}) {row[1][0]:15.2f} ({row[1][1]:.2f})")


def inference(module, x):
    """A forward pass without gradients."""
    def step():
        with torch.no_grad():
            module(x)
    return step


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iterations", type=int, default=10)
    ap.add_argument("--cold", action="store_true", help="keep glibc's allocation thresholds (a fresh process's page faults)")
    args = ap.parse_args()
    if not args.cold and any(os.environ.get(k) != v for k, v in WARM_HEAP.items()):
        os.execve(sys.executable, [sys.executable] + sys.argv, {**os.environ, **WARM_HEAP})
    if args.cold and any(k in os.environ for k in WARM_HEAP):
        os.execve(sys.executable, [sys.executable] + sys.argv, {k: v for k, v in os.environ.items() if k not in WARM_HEAP})
    print(f"# glibc heap: {'cold (defaults)' if args.cold else 'warm (' + ', '.join(f'{k}={v}' for k, v in WARM_HEAP.items()) + ')'}")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"{'case':<44} {'NCHW ms (min)':>16} {'channels_last ms (min)':>24}")
    for c, o, k, s, side in LAYERS:
        def training(channels_last):  # called within this iteration
            conv, x = in_layout(channels_last, torch.nn.Conv2d(c, o, k, s, k // 2, bias=False), torch.randn(64, c, side, side))
            x.requires_grad_(c != 3)

            def step():
                conv.weight.grad, x.grad = None, None
                conv(x).sum().backward()
            return step
        report(f"conv {c}->{o} {k}x{k} s{s} {side}x{side} b64 fwd+bwd", training, args.iterations)

    for c, groups, s, side in DEPTHWISE:
        def forward(channels_last):  # called within this iteration
            conv = torch.nn.Conv2d(c, c, 3, s, 1, groups=groups, bias=False)
            return inference(*in_layout(channels_last, conv, torch.randn(64, c, side, side)))
        report(f"conv {c} ch, {c // groups} per group, s{s} {side}x{side} b64 fwd", forward, args.iterations)

    for c, o, side, count in POINTWISE:
        def pointwise(channels_last):  # called within this iteration
            return inference(*in_layout(channels_last, torch.nn.Conv2d(c, o, 1, bias=False), torch.randn(64, c, side, side)))
        report(f"conv 1x1 {c}->{o} {side}x{side} b64 fwd (x{count})", pointwise, args.iterations)

    bench_dir = os.path.dirname(os.environ.get("TORCH_BENCH", os.path.join(os.path.dirname(__file__), "..", "..", "shared",
                                                                         "bench", "pytorch", "bench_torch.py")))
    sys.path.insert(0, bench_dir)
    try:
        from models import MobileFaceNet
    except ImportError:
        print(f"MobileFaceNet-32 teacher: skipped (no models.py in {bench_dir}; set TORCH_BENCH)")
        return
    def teacher(channels_last):
        return inference(*in_layout(channels_last, MobileFaceNet(input_size=32).eval(), torch.randn(64, 3, 32, 32)))
    report("teacher MobileFaceNet-32 eval forward b64", teacher, args.iterations)

if __name__ == "__main__":
    main()
