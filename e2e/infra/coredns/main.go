// CoreDNS with only the plugins the local cluster's DNS uses: the cluster's names from the
// kube-apiserver and nothing forwarded, so no lookup leaves the machine (DEVELOPERS.md: network
// rules). Built by e2e/infra/build-binaries.sh; a stock CoreDNS compiles every plugin it ships.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
)

func init() {
	// The order the plugins run in, as in CoreDNS's own plugin.cfg.
	dnsserver.Directives = []string{"bind", "ready", "errors", "log", "cache", "kubernetes"}
}

func main() { coremain.Run() }
