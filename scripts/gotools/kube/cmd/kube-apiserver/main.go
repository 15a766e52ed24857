// Command kube-apiserver is Kubernetes' API server from the pinned k8s.io/kubernetes module. Upstream's main package
// cannot be built as a tool (k8s.io/kubernetes replaces its staging modules with local directories), so the wrapper
// module repeats those replaces and this calls the same command constructor.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
