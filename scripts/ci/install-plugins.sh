#!/usr/bin/env bash
# Install the real provider plugins matching the pinned Python SDKs into PULUMI_HOME (CI runners with internet only;
# the development machines use the sandbox instead).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export PULUMI_HOME="${PULUMI_HOME:-$root/.state/pulumi-home}"
for pkg in aws gcp kubernetes; do
  version=$("$root/.venv/bin/python" -c "from importlib.metadata import version; print(version('pulumi-$pkg'))")
  "$root/.tools/bin/pulumi" plugin install resource "$pkg" "v$version"
done
