package cluster

import (
	"context"
)

// startEtcd starts a single-member etcd on two free loopback ports and waits for its /health.
func (c *Cluster) startEtcd(ctx context.Context) error {
	ports, err := freePorts(2)
	if err != nil {
		return err
	}
	clientURL, peerURL := loopbackURL("http", ports[0]), loopbackURL("http", ports[1])
	c.etcdURL = clientURL
	p, err := c.run(etcdName, []string{
		"--name=podname",
		"--data-dir=" + c.path(etcdDataDir),
		"--listen-client-urls=" + clientURL,
		"--advertise-client-urls=" + clientURL,
		"--listen-peer-urls=" + peerURL,
		"--initial-advertise-peer-urls=" + peerURL,
		"--initial-cluster=podname=" + peerURL,
		// The data is thrown away with the cluster; waiting for the disk only slows tests.
		"--unsafe-no-fsync",
	})
	if err != nil {
		return err
	}
	return waitFor(ctx, "etcd /health", []*process{p}, httpGetOK(probeClient, clientURL+"/health", ""))
}
