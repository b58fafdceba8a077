#!/usr/bin/env bash
# Install everything and open Latent Forge on the shipped models.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python main.py "$@"
