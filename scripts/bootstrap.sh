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

# warm_bytecode: compile what the engine loads into its private per-user bytecode cache (engine/bytecode.py), once,
# so that no process compiles the cloud SDKs from source, even under PYTHONDONTWRITEBYTECODE. `import engine` comes
# first: it points Python at that cache; -B keeps the two modules imported before it from writing into the checkout.
warm_bytecode() {
  local start
  start=$(date +%s)
  if ! "$venv/bin/python" -B - <<'PY'; then
import engine  # noqa: F401  (first: bytecode goes to the private per-user cache)
import pulumi, pulumi.automation, pulumi_aws, pulumi_gcp, pulumi_kubernetes, stacks.registry  # noqa: E401
import engine.cli.commands, engine.mcpserver.server, engine.operations  # noqa: E401, F401
from engine.settings import default_project_root
from engine.synth import synth_in_this_process

for stack in stacks.registry.STACKS:  # the stack programs load the SDK modules they use lazily
    synth_in_this_process(stack, default_project_root())
PY
    echo "bootstrap: warning: the bytecode cache could not be warmed (see \`datamcp doctor\`)" >&2
    return 0
  fi
  echo "bootstrap: bytecode cache warm in $(($(date +%s) - start))s"
}

# bytecode_state: 0 warm, 1 cold, 2 the cache is not private to this user (then the engine does not use it)
bytecode_state() {
  "$venv/bin/python" -B -c 'import sys; from engine.doctor import bytecode_check as check; c = check()
sys.exit(0 if c.ok else 2 if c.required else 1)'
}

digest=$(cat requirements/bootstrap.txt requirements/lock.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$venv/.datamcp-stamp" 2>/dev/null)" != "$digest" ]; then
  start=$(date +%s)
  [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements/bootstrap.txt
  "$venv/bin/uv" pip install --quiet --python "$venv/bin/python" --require-hashes -r requirements/lock.txt
  "$venv/bin/uv" pip install --quiet --python "$venv/bin/python" --no-deps --no-build-isolation -e .
  echo "bootstrap: python environment ready in $(($(date +%s) - start))s"
  warm_bytecode
  echo "$digest" >"$venv/.datamcp-stamp"
else
  echo "bootstrap: python environment up to date"
  state=0
  bytecode_state || state=$?
  if [ "$state" = 1 ]; then
    warm_bytecode # e.g. another OS user, or a cache that was cleared
  elif [ "$state" != 0 ]; then
    echo "bootstrap: warning: the bytecode cache is not private to you; see \`datamcp doctor\`" >&2
  fi
fi

"$root/scripts/build-go-tools.sh"
