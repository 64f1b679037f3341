#!/usr/bin/env bash
# The prepared run for a lent GPU machine: torch and transformers are there; no vLLM, no network, nothing
# to install (judgebench is used from this checkout). Finishes in well under 5 minutes from a bare machine.
#   run: scripts/gpu_check.sh            (prints one table; $OUT/gpu_check.json when $OUT is set)
#   here, on CPU: scripts/gpu_check.sh --small
# The AlpacaEval eval set is used if $JUDGEBENCH_DATA (or .device/) has it, else instructions are synthesised.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" TOKENIZERS_PARALLELISM=false
exec timeout 290 python scripts/gpu_check.py "$@"
