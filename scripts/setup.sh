#!/usr/bin/env bash
# Create .venv with CPU PyTorch and Latent Forge installed (EXTRAS: e.g. "[test]").
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
# CPU build first, so nothing below pulls a CUDA build of torch.
.venv/bin/pip install --quiet "torch==2.13.0"
.venv/bin/pip install --quiet -e ".${1:-}"
