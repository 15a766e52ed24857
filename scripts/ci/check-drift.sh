#!/usr/bin/env bash
# Check STACK for drift without changing anything: the report goes to drift.json (in the working directory) and
# `drifted=true` to $GITHUB_OUTPUT when the refresh found drift (exit 7); any other failure fails with its own code.
# Environment: STACK, REQUESTER (who checks, e.g. github:drift-check), the DATAMCP_* settings of the job.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
drift_exit=7 # datamcp refresh --exit-code: drift found (docs/cli.md)

code=0
"$root/.venv/bin/datamcp" refresh "$STACK" --user "$REQUESTER" --preview-only --exit-code --json >drift.json ||
  code=$?
if [ "$code" = "$drift_exit" ]; then
  echo "drifted=true" >>"$GITHUB_OUTPUT"
  echo "$STACK has drifted (drift.json)"
elif [ "$code" != 0 ]; then
  exit "$code"
else
  echo "drifted=false" >>"$GITHUB_OUTPUT"
  echo "$STACK: no drift"
fi
