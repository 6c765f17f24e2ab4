package harness

// PID is the coredns process's ID, for tests that look at what the process holds
// (/proc/PID/fd) across reloads.
func (c *CoreDNS) PID() int {
	return c.cmd.Process.Pid
}
