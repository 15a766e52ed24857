// Command etcd is etcd's server from the pinned server module: upstream's main package is in etcd's root module
// (go.etcd.io/etcd/v3), which the Go module proxy does not serve, so this calls the same entry point.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
