#!/usr/bin/env bash
# Mutation testing of the safety core (docs/development.md, "Mutation testing"): mutmut mutates the modules listed in
# pyproject.toml's [tool.mutmut] one change at a time and runs the fast tests that reach each change; a mutant no
# test notices is a rule the tests do not pin. Arguments are mutant names or globs to (re)run only those, e.g.
# `scripts/mutate.sh 'engine.identity.*'`; MUTATE_JOBS sets the workers (default 2), MUTATE_KEEP=1 reuses the
# results of the last run (only changed functions and named mutants run again).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

[ "${MUTATE_KEEP:-0}" = 1 ] || rm -rf mutants
# The folder must exist before Python starts: a missing PYTHONPATH entry is cached as "nothing here", and the tests
# would then import the checkout's engine through the editable install instead of the mutated copy. PYTHONPATH
# also makes the processes the tests start (e.g. concurrent audit writers) load the mutated copy.
mkdir -p mutants
export PYTHONPATH="$root/mutants"
unset PYTEST_ADDOPTS

start=$(date +%s)
status=0
.venv/bin/mutmut run --max-children "${MUTATE_JOBS:-2}" "$@" >mutants/run.log 2>&1 || status=$?
# mutmut redraws a progress line with carriage returns; show the last one and what followed it.
tr '\r' '\n' <mutants/run.log | grep -a -v -e '^\s*$' -e 'Running stats' -e 'Generating mutants' | tail -n 3 || true
if [ "$status" != 0 ]; then
  echo "mutate: mutmut failed (exit $status); its output is in mutants/run.log" >&2
  exit "$status"
fi
echo "mutate: mutmut ran in $(($(date +%s) - start)) s"
partial=()
[ "$#" = 0 ] || partial=(--partial)
.venv/bin/python scripts/mutation/score.py "${partial[@]}"
