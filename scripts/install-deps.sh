#!/usr/bin/env bash
# Installs the Debian packages CrossRes builds against, when they are missing
# (uses sudo only when not root). Python packages used by the test fixtures are
# installed with --python.
set -euo pipefail
packages=(libopenblas-dev liblapacke-dev libpng-dev libturbojpeg0-dev libopenmpi-dev openmpi-bin)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing missing Debian packages: ${missing[*]}" >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    for attempt in 1 2 3 4 5; do
        if $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null; then
            break
        fi
        [ "$attempt" -lt 5 ] || { echo "apt-get failed" >&2; exit 1; }
        echo "apt-get failed (dpkg lock?); retrying in 10 s" >&2
        sleep 10
    done
fi
if [ "${1:-}" = "--python" ] && command -v python3 >/dev/null; then
    python3 - <<'PY' 2>/dev/null || python3 -m pip install -q numpy pillow safetensors scikit-learn >&2 || echo "note: Python test fixtures unavailable; those tests will skip" >&2
import numpy, PIL, safetensors, sklearn
PY
    # PyTorch's CPU build, for the cross-check of our models against the team's reference
    # definitions (pinned: an unpinned `torch` would fetch a CUDA build of several GB).
    python3 -c "import torch" 2>/dev/null || python3 -m pip install -q "torch==2.13.0+cpu" >&2 \
        || echo "note: torch 2.13.0+cpu unavailable; the PyTorch cross-check will skip" >&2
fi
