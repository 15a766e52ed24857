// Command pulumi-resource-kubernetes is Pulumi's Kubernetes provider from the pinned provider module. Upstream's main
// embeds JSON files its own build generates (and git ignores), so the module proxy cannot build it; this one embeds
// the module's schema.json and terraform-mapping.json, which scripts/build-go-tools.sh copies next to it.
package main

import (
	_ "embed"
	"fmt"
	"os"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema.json
var schema []byte

//go:embed terraform-mapping.json
var mapping []byte

func main() {
	// The bootstrap and `datamcp doctor` check the build with --version; the Pulumi engine never passes it.
	if len(os.Args) == 2 && os.Args[1] == "--version" {
		fmt.Println(version.Version)
		return
	}
	provider.Serve("kubernetes", version.Version, schema, mapping)
}
