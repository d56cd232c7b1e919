#!/usr/bin/env bash
# Install the LiteLLM proxy into its own virtual environment for benchmarks/gateway/bench_gateway.py
# (kept apart from the project's environment: it pins many packages of its own).
#
#     bash benchmarks/gateway/install_litellm.sh [VENV_DIR]     # default: .engines/litellm
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="${1:-$root/.engines/litellm}"
python="${PYTHON:-python3}"
if [ ! -x "$venv/bin/litellm" ]; then
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip
  "$venv/bin/pip" install --quiet "litellm[proxy]"
fi
"$venv/bin/litellm" --version 2>/dev/null | tail -1 || true
echo "$venv/bin/litellm"
