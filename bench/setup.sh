#!/usr/bin/env bash
# Installs the pinned external reference solvers (bench/requirements.txt, PyPI only) into
# bench/.venv. Idempotent: re-running only installs what is missing or changed.
# pygambit may build from source (needs a C++ compiler); that takes a few minutes once.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-python3}"
if [ ! -x "$here/.venv/bin/python" ]; then
    "$python" -m venv "$here/.venv"
fi
"$here/.venv/bin/python" -m pip install --quiet --upgrade pip
"$here/.venv/bin/python" -m pip install --quiet -r "$here/requirements.txt"
"$here/.venv/bin/python" - <<'PY'
from importlib.metadata import version
import highspy, scipy, numpy, numba, quantecon, pygambit  # noqa: F401  (fail here, not mid-run)
print("bench/.venv ready:", ", ".join(f"{p} {version(p)}" for p in
      ["highspy", "scipy", "numpy", "numba", "quantecon", "pygambit"]))
PY
