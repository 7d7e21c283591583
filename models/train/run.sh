#!/usr/bin/env bash
# One command: make the venv, install the pinned requirements, train + export + evaluate.
#   bash models/train/run.sh        (from anywhere; paths are resolved relative to this script)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
VENV="$HERE/.venv"
PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet --no-deps -r "$HERE/requirements.txt"
cd "$REPO"
exec "$VENV/bin/python" "$HERE/train.py" "$@"
