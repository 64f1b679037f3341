#!/usr/bin/env bash
# One prepared run for the lent GPU machine (torch + transformers there; no vllm, no network).
# Carry the eval set into an ignored folder first:  mkdir -p .device && cp ../shared/data/alpacaeval/eval_set.json.gz .device/
set -euo pipefail
cd "$(dirname "$0")/.."
pip install -q --no-deps -e . 2>/dev/null || true
pip install -q msgspec isal aiohttp tqdm 2>/dev/null || true
JUDGEBENCH_DATA="${JUDGEBENCH_DATA:-.device}" python scripts/gpu_check.py | tee "${OUT:-.}/gpu_check.json"
