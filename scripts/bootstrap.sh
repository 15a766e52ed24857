#!/usr/bin/env bash
# Install everything DataMCP needs into the checkout: .venv (hash-pinned from requirements/lock.txt) and the Go tools
# in .tools/bin. Idempotent: a second run checks digests and returns in about a second.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
venv="$root/.venv"
python=${PYTHON:-python3}

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "bootstrap: DataMCP needs Python >= 3.11; '$python' is $("$python" --version 2>&1). Set PYTHON=..." >&2
  exit 1
fi

digest=$(cat requirements/bootstrap.txt requirements/lock.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$venv/.datamcp-stamp" 2>/dev/null)" != "$digest" ]; then
  start=$(date +%s)
  [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements/bootstrap.txt
  "$venv/bin/uv" pip install --quiet --python "$venv/bin/python" --require-hashes -r requirements/lock.txt
  "$venv/bin/uv" pip install --quiet --python "$venv/bin/python" --no-deps --no-build-isolation -e .
  echo "$digest" >"$venv/.datamcp-stamp"
  echo "bootstrap: python environment ready in $(($(date +%s) - start))s"
else
  echo "bootstrap: python environment up to date"
fi

"$root/scripts/build-go-tools.sh"
