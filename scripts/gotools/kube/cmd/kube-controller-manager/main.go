// Command kube-controller-manager runs Kubernetes' controllers (namespace deletion, garbage collection, ...) from the
// pinned k8s.io/kubernetes module, for the same reason as kube-apiserver next to it.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

func main() {
	os.Exit(cli.Run(app.NewControllerManagerCommand()))
}
