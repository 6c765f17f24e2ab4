package cluster

import (
	"fmt"

	"github.com/podname/podname/test/ports"
)

// freePorts returns n distinct TCP ports that were free on 127.0.0.1 a moment ago, below the
// ephemeral range so that a component restarted on its port finds it free (see ports.Free);
// another process could take one in between, which Start reports as that component failing.
func freePorts(n int) ([]int, error) {
	return ports.Free("127.0.0.1", n, false)
}

// loopbackURL is scheme://127.0.0.1:port.
func loopbackURL(scheme string, port int) string {
	return fmt.Sprintf("%s://127.0.0.1:%d", scheme, port)
}
