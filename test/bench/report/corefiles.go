package report

import (
	"fmt"

	"github.com/podname/podname/test/bench"
)

// corefiles writes each Corefile (and BIND's named.conf) the run used to a file of its own
// under corefiles/, and lists them.
func (w *writer) corefiles() {
	res := w.res
	type file struct{ name, what, text string }
	var files []file
	if t := res.Throughput; t != nil {
		files = append(files, file{"throughput.conf", "throughput and latency (ports are picked free at each run)", t.Corefile})
	}
	for _, role := range []string{bench.RolePodname, bench.RoleKubernetes, bench.RoleWhoami} {
		c, err := bench.MemoryCorefile(role, "KUBECONFIG")
		if err != nil {
			w.err = err
			return
		}
		files = append(files, file{"memory-" + role + ".conf", "memory, sync and relist, " + role, c.Text})
	}
	if c := res.Churn; c != nil {
		for _, role := range []string{bench.RolePodname, bench.RoleKubernetes} {
			if text, ok := c.Corefile[role]; ok {
				files = append(files, file{"churn-" + role + ".conf", "churn, " + role + " pass", text})
			}
		}
		if sec := c.Secondary; sec != nil {
			files = append(files, file{"churn-primary.conf", "churn, podname pass, the primary of BIND", sec.Corefile},
				file{"named.conf", "BIND's `named.conf` (harness.StartBIND)", sec.NamedConf})
		}
	}
	if len(res.Transfers) > 0 {
		files = append(files, file{"transfers.conf", fmt.Sprintf("zone transfers, at %s pods (the zone file's path differs by size)", count(res.Transfers[0].Pods)), res.Transfers[0].Corefile})
	}
	w.p("## Corefiles\n\n")
	for _, f := range files {
		w.files["corefiles/"+f.name] = f.text
		w.p("- %s: %s\n", f.what, w.link(f.name, "corefiles/"+f.name))
	}
	w.p("\n")
}
