#!/usr/bin/env bash
# Build the Go tools DataMCP needs (pulumi, helm, actionlint, opa, hydra) from the Go module proxy into .tools/bin.
# Each tool has a wrapper module under scripts/gotools/<name>/ whose go.mod/go.sum pin it. A tool is rebuilt only
# when its wrapper module or build flags change (a stamp records their digest), or when it is missing.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin="$root/.tools/bin"
stamps="$root/.tools/stamps"
mkdir -p "$bin" "$stamps"

# name | package | version | ldflags | cgo (0 or 1) | extra build tags
# Every tool is built without cgo except hydra (below).
tools=(
  "pulumi|github.com/pulumi/pulumi/pkg/v3/cmd/pulumi|v3.259.0|-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v3.259.0"
  # helm's Makefile derives the default Kubernetes version from its client-go (v0.37 -> 1.37); without it helm
  # template assumes v1.20 and lint checks deprecations against it.
  "helm|helm.sh/helm/v3/cmd/helm|v3.22.0|-X helm.sh/helm/v3/internal/version.version=v3.22.0 -X helm.sh/helm/v3/internal/version.gitTreeState=clean -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=37 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=37"
  "actionlint|github.com/rhysd/actionlint/cmd/actionlint|v1.7.12|-X github.com/rhysd/actionlint.version=v1.7.12"
  # the policy engine (docs/policy.md); its version is in its source
  "opa|github.com/open-policy-agent/opa|v1.22.3|"
  # Ory Hydra, the OpenID Connect provider of the console's browser tests (tests/console/). Its go.mod replaces
  # gobuffalo/pop with Ory's fork; the wrapper repeats that replace. It needs cgo and the sqlite tags for its
  # in-memory store (DSN=memory); without them it refuses that DSN.
  "hydra|github.com/ory/hydra/v2|v2.3.0|-X github.com/ory/hydra/v2/driver/config.Version=v2.3.0 -X github.com/ory/hydra/v2/driver/config.Commit=ee8c339ddada3a42529c0416897abc32bad03bbb|1|sqlite,sqlite_omit_load_extension"
)

# version_of NAME BINARY: the version string the binary reports, or nothing.
version_of() {
  case "$1" in
    pulumi) PULUMI_SKIP_UPDATE_CHECK=true "$2" version 2>/dev/null | head -n1 ;;
    helm) "$2" version --template '{{.Version}}' 2>/dev/null ;;
    actionlint) "$2" -version 2>/dev/null | head -n1 ;;
    opa) "$2" version 2>/dev/null | sed -n 's/^Version: /v/p' ;;
    hydra) "$2" version 2>/dev/null | sed -n 's/^Version: *//p' ;;
  esac
}

only=("$@")
for entry in "${tools[@]}"; do
  IFS='|' read -r name pkg version ldflags cgo tags <<<"$entry"
  if [ ${#only[@]} -gt 0 ] && [[ ! " ${only[*]} " == *" $name "* ]]; then
    continue
  fi
  moddir="$root/scripts/gotools/$name"
  # (cgo and tags enter the digest only when set, so the stamps of the other tools stay valid)
  digest=$(cat "$moddir/go.mod" "$moddir/go.sum" <(echo "$pkg $version $ldflags${cgo:+ cgo=$cgo}${tags:+ tags=$tags}") | sha256sum | cut -d' ' -f1)
  target="$bin/$name"
  if [ -x "$target" ] && [ "$(cat "$stamps/$name" 2>/dev/null)" = "$digest" ]; then
    echo "tools: $name $version up to date"
    continue
  fi
  # A matching binary already on PATH (outside .tools) is reused instead of rebuilt.
  ambient=$(PATH=$(echo "$PATH" | tr ':' '\n' | grep -vxF "$bin" | paste -sd:) command -v "$name" || true)
  if [ -n "$ambient" ] && [ "$(version_of "$name" "$ambient")" = "$version" ]; then
    ln -sf "$ambient" "$target"
    echo "$digest" >"$stamps/$name"
    echo "tools: $name $version found on PATH, linked"
    continue
  fi
  echo "tools: building $name $version (first time only; pulumi takes several minutes on 2 cores)"
  start=$(date +%s)
  rm -f "$target"
  (cd "$moddir" && CGO_ENABLED=${cgo:-0} GOFLAGS=-mod=readonly go build -trimpath -tags "osusergo,grpcnotrace${tags:+,$tags}" \
    -ldflags "-s -w $ldflags" -o "$target.tmp" "$pkg")
  mv "$target.tmp" "$target"
  got=$(version_of "$name" "$target")
  if [ "$got" != "$version" ]; then
    echo "tools: $name reports version '$got', expected '$version'" >&2
    exit 1
  fi
  echo "$digest" >"$stamps/$name"
  echo "tools: built $name $version in $(($(date +%s) - start))s"
done
