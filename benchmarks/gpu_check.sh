#!/usr/bin/env bash
# The GPU check (benchmarks/gpu_check.py says what it runs): LoRA and full fine-tuning steps in
# bf16 on cuda against float32 on the CPU, evaluation on cuda, and a two-cell study with the Ray
# executor asking for GPUs. A few minutes on one GPU; exit status 1 when any part fails or when
# there is no CUDA device. Run from anywhere; PYTHON overrides the interpreter (default: the
# repository's .venv, else python3).
#
#     benchmarks/gpu_check.sh
#     benchmarks/gpu_check.sh --rehearse-on-cpu     # the script itself, on a machine without a GPU
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
    if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
fi
if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv,noheader || true
fi
exec "$PY" benchmarks/gpu_check.py "$@"
