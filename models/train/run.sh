#!/usr/bin/env bash
# One command: make the venv, install the pinned requirements, train + export + evaluate.
#   bash models/train/run.sh        (from anywhere; paths are resolved relative to this script)
# Only the response bank (models/response_bank.json, eval/game_bank_test.jsonl, manifest.json's responseBank entry)
# from the committed model, no retraining; --measure also runs the Rust relevance and mood-fit tests and puts their
# figures into metrics.json and MODEL_CARD.md:
#   bash models/train/run.sh --bank-only [--measure] [--chat N]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
VENV="$HERE/.venv"
PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
cd "$REPO"
if [ "${1:-}" = "--bank-only" ]; then
  shift
  # build_bank.py needs numpy, onnxruntime and chitchat-dataset (all pinned in requirements.txt); install only when
  # one is missing, so a rebuild works offline with an existing venv.
  if ! "$VENV/bin/python" -c "import numpy, onnxruntime, chitchat_dataset" 2>/dev/null; then
    "$VENV/bin/python" -m pip install --quiet --no-deps -r "$HERE/requirements.txt"
  fi
  exec "$VENV/bin/python" "$HERE/build_bank.py" "$@"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet --no-deps -r "$HERE/requirements.txt"
exec "$VENV/bin/python" "$HERE/train.py" "$@"
