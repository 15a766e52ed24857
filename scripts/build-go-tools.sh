#!/usr/bin/env bash
# Build the Go tools DataMCP needs (pulumi, helm, actionlint, opa, hydra, and for the tests a real Kubernetes control
# plane and Pulumi's Kubernetes provider) from the Go module proxy into .tools/bin.
# Each tool has a wrapper module under scripts/gotools/<dir>/ whose go.mod/go.sum pin it; a tool whose upstream main
# cannot be built from the proxy has a short main of its own there (cmd/<name>/). A tool is rebuilt only when its
# wrapper module, its own main or its build flags change (a stamp records their digest), or when it is missing.
# `build-go-tools.sh NAME...` builds only the tools named.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin="$root/.tools/bin"
plugins="$root/.tools/plugins"
stamps="$root/.tools/stamps"
mkdir -p "$bin" "$plugins" "$stamps"
# Provider plugins never live next to pulumi: the CLI prefers a plugin beside its own binary over every other, so the
# sandbox's simulated provider would lose to it. The engine puts .tools/plugins on the CLI's PATH where a provider is
# meant to be real (docs/sandbox.md).
rm -f "$bin"/pulumi-resource-*

# dest_of NAME: the folder a tool is installed into.
dest_of() {
  case "$1" in
    pulumi-resource-*) echo "$plugins" ;;
    *) echo "$bin" ;;
  esac
}

# name | package | version it reports | ldflags | cgo (0 or 1) | extra build tags | wrapper module dir (default: name)
# Every tool is built without cgo except hydra (below). A package starting with ./ is the wrapper's own main.
k8s_ldflags="-X k8s.io/component-base/version.gitVersion=v1.34.4 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=34 -X k8s.io/component-base/version.gitTreeState=clean"
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
  # The Kubernetes control plane of the tests (tests/k8s.py), v3.6.16 and v1.34.4. etcd's own main is in its root
  # module (go.etcd.io/etcd/v3), which the module proxy does not serve; etcd's version is in its source.
  "etcd|./cmd/etcd|v3.6.16|"
  # One wrapper module for both: it repeats k8s.io/kubernetes' replaces of its staging modules (v0.34.4). Without the
  # version ldflags they report v0.0.0-master, and helm refuses charts with a kubeVersion constraint.
  "kube-apiserver|./cmd/kube-apiserver|v1.34.4|$k8s_ldflags|||kube"
  "kube-controller-manager|./cmd/kube-controller-manager|v1.34.4|$k8s_ldflags|||kube"
  # Pulumi's Kubernetes provider at a commit between v4.24.0 and v4.25.0 (the provider module has no tags of its own,
  # hence the pseudo-version in go.mod); the version is Pulumi's own form for a build between releases. Its main
  # embeds files copied from the module (prepare, below).
  "pulumi-resource-kubernetes|./cmd/pulumi-resource-kubernetes|4.25.0-alpha.1768448096+f47bc2d6|-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=4.25.0-alpha.1768448096+f47bc2d6|||pulumi-kubernetes"
)

# version_of NAME BINARY: the version string the binary reports, or nothing.
version_of() {
  case "$1" in
    pulumi) PULUMI_SKIP_UPDATE_CHECK=true "$2" version 2>/dev/null | head -n1 ;;
    helm) "$2" version --template '{{.Version}}' 2>/dev/null ;;
    actionlint) "$2" -version 2>/dev/null | head -n1 ;;
    opa) "$2" version 2>/dev/null | sed -n 's/^Version: /v/p' ;;
    hydra) "$2" version 2>/dev/null | sed -n 's/^Version: *//p' ;;
    etcd) "$2" --version 2>/dev/null | sed -n 's/^etcd Version: /v/p' ;;
    kube-apiserver | kube-controller-manager) "$2" --version 2>/dev/null | sed -n 's/^Kubernetes //p' ;;
    pulumi-resource-kubernetes) "$2" --version 2>/dev/null ;;
  esac
}

# prepare NAME MODDIR: put what a tool's own main embeds next to it before it is built.
prepare() {
  case "$1" in
    pulumi-resource-kubernetes)
      # The provider module's schema and Terraform mapping (upstream embeds copies its build generates). The copies
      # are git-ignored; the module's go.sum entry pins their content.
      local module=github.com/pulumi/pulumi-kubernetes/provider/v4 src
      src=$(cd "$2" && go mod download "$module" && go list -m -f '{{.Dir}}' "$module")/cmd/pulumi-resource-kubernetes
      install -m 0644 "$src/schema.json" "$src/terraform-mapping.json" "$2/cmd/pulumi-resource-kubernetes/"
      ;;
  esac
}

# digest_of MODDIR PKG FLAGS: what a build depends on: the wrapper module, the own main's sources, the flags.
digest_of() {
  local sources=()
  if [[ $2 == ./* ]]; then
    sources=("$1/${2#./}"/*.go)
  fi
  cat "$1/go.mod" "$1/go.sum" "${sources[@]}" <(echo "$2 $3") | sha256sum | cut -d' ' -f1
}

# build NAME PKG VERSION LDFLAGS CGO TAGS MODDIR: build into .tools/bin and check the version the binary reports.
build() {
  local name=$1 pkg=$2 version=$3 ldflags=$4 cgo=$5 tags=$6 moddir=$7 start got
  local target
  target="$(dest_of "$1")/$1"
  echo "tools: building $name $version (first time only; pulumi takes several minutes on 2 cores, its Kubernetes" \
    "provider about ten)"
  start=$(date +%s)
  rm -f "$target"
  prepare "$name" "$moddir"
  (cd "$moddir" && CGO_ENABLED=${cgo:-0} GOFLAGS=-mod=readonly go build -trimpath -tags "osusergo,grpcnotrace${tags:+,$tags}" \
    -ldflags "-s -w $ldflags" -o "$target.tmp" "$pkg")
  mv "$target.tmp" "$target"
  got=$(version_of "$name" "$target")
  if [ "$got" != "$version" ]; then
    echo "tools: $name reports version '$got', expected '$version'" >&2
    exit 1
  fi
  echo "tools: built $name $version in $(($(date +%s) - start))s"
}

only=("$@")
for entry in "${tools[@]}"; do
  IFS='|' read -r name pkg version ldflags cgo tags dir <<<"$entry"
  if [ ${#only[@]} -gt 0 ] && [[ ! " ${only[*]} " == *" $name "* ]]; then
    continue
  fi
  moddir="$root/scripts/gotools/${dir:-$name}"
  # (cgo and tags enter the digest only when set, so the stamps of the other tools stay valid)
  digest=$(digest_of "$moddir" "$pkg" "$version $ldflags${cgo:+ cgo=$cgo}${tags:+ tags=$tags}")
  target="$(dest_of "$name")/$name"
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
  build "$name" "$pkg" "$version" "$ldflags" "$cgo" "$tags" "$moddir"
  echo "$digest" >"$stamps/$name"
done
