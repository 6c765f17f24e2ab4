package harness

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// zooKeeperJar is Debian's ZooKeeper server jar (package zookeeper). Its manifest's Class-Path
// names every library it needs under /usr/share/java, so it is the whole class path.
const zooKeeperJar = "/usr/share/java/zookeeper.jar"

// slf4jSimpleJar makes the server log to stderr, hence to its log file; without an SLF4J
// binding on the class path it logs nothing at all. Debian's libslf4j-java, which the
// zookeeper package pulls in, has it.
const slf4jSimpleJar = "/usr/share/java/slf4j-simple.jar"

// NeedZooKeeper wants Debian's ZooKeeper server and Java to run it.
var NeedZooKeeper Need = func() string {
	if _, err := os.Stat(zooKeeperJar); err != nil {
		return "ZooKeeper (Debian package zookeeper: make deps)"
	}
	if _, err := exec.LookPath("java"); err != nil {
		return "java (Debian package default-jre-headless: make deps)"
	}
	return ""
}

// ZooKeeper is a standalone ZooKeeper server of the test's.
type ZooKeeper struct {
	*Process
	Addr string // host:port clients connect to
}

// StartZooKeeper writes a zoo.cfg into dir (the data lives in dir too) and runs ZooKeeper's
// standalone server on addr, a host:port of the test's. It returns once the server answers
// the ruok four-letter word with imok, or fails when ctx ends first or the server exits.
func StartZooKeeper(ctx context.Context, dir, addr string) (*ZooKeeper, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("zookeeper address %q: %w", addr, err)
	}
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, fmt.Errorf("zookeeper data dir: %w", err)
	}
	// A short tick keeps the least session timeout (2 ticks) short; the admin HTTP server would
	// take port 8080, so it is off; ruok and srvr are the four-letter words a test may send.
	conf := fmt.Sprintf(`tickTime=500
dataDir=%s
clientPortAddress=%s
clientPort=%s
admin.enableServer=false
4lw.commands.whitelist=ruok,srvr
`, data, host, port)
	cfg := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		return nil, fmt.Errorf("write zoo.cfg: %w", err)
	}
	cp := zooKeeperJar + ":" + slf4jSimpleJar
	// ZooKeeperServerMain is the standalone server (QuorumPeerMain runs it too when the
	// configuration names no peers).
	cmd := exec.Command("java", "-Xmx256m", "-cp", cp, "org.apache.zookeeper.server.ZooKeeperServerMain", cfg)
	p, err := Run(dir, "zookeeper", cmd)
	if err != nil {
		return nil, err
	}
	zk := &ZooKeeper{Process: p, Addr: addr}
	err = Poll(ctx, "zookeeper on "+addr+" to answer ruok", func() (bool, error) {
		if p.Exited() {
			return false, fmt.Errorf("zookeeper exited: %v\n%s", p.ExitError(), LastLines(p.Log(), 20))
		}
		answer, err := zk.FourLetter(ctx, "ruok")
		return err == nil && answer == "imok", nil
	})
	if err != nil {
		p.Kill()
		return nil, err
	}
	return zk, nil
}

// FourLetter sends ZooKeeper's four-letter word cmd (ruok, srvr) and returns the answer.
func (z *ZooKeeper) FourLetter(ctx context.Context, cmd string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", z.Addr)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		if err := conn.SetDeadline(deadline); err != nil {
			return "", err
		}
	}
	if _, err := io.WriteString(conn, cmd); err != nil {
		return "", err
	}
	b, err := io.ReadAll(conn)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}
