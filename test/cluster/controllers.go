package cluster

import (
	"context"
)

// startControllerManager starts kube-controller-manager. It has no port to probe (its secure
// port is off), so the node becoming Ready later, which needs its node lifecycle controller to
// lift the not-ready taint, is what shows it works.
func (c *Cluster) startControllerManager(context.Context) error {
	_, err := c.run(controllerManagerName, []string{
		"--kubeconfig=" + c.kubeconfig,
		"--root-ca-file=" + c.path(caFile),
		"--service-account-private-key-file=" + c.path(serviceAccountKeyFile),
		"--use-service-account-credentials=false",
		"--leader-elect=false",
		"--secure-port=0",
		// No kubelet means no token secrets to mint, no orphaned pods to collect and no
		// evictions wanted when a test plays with node or pod status.
		"--controllers=*,-serviceaccount-token,-podgc,-taint-eviction-controller",
	})
	return err
}

// startScheduler starts kube-scheduler; like the controller manager, it is proven by pods
// getting bound rather than by a probe.
func (c *Cluster) startScheduler(context.Context) error {
	_, err := c.run(schedulerName, []string{
		"--kubeconfig=" + c.kubeconfig,
		"--leader-elect=false",
		"--secure-port=0",
	})
	return err
}
