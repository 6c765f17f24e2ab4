package bench

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// Machine describes where the figures were measured.
type Machine struct {
	CPUs      int
	CPUModel  string
	MemTotal  string
	Kernel    string
	Go        string
	CoreDNS   string
	Dnsperf   string
	Commit    string
	Date      time.Time
	LoadStart string // /proc/loadavg when the run began
	// Others are the kube-apiserver and go test processes not started by this run, at its
	// start: other work sharing the CPUs.
	Others []string
}

// Describe gathers the machine's facts; coredns is the binary measured.
func Describe(root, coredns string) Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version(), Date: time.Now().UTC()}
	m.CPUModel = procField("/proc/cpuinfo", "model name")
	m.MemTotal = procField("/proc/meminfo", "MemTotal")
	m.Kernel = firstLine(exec.Command("uname", "-sr"))
	m.CoreDNS = strings.Join(strings.Fields(firstLine(exec.Command(coredns, "-version"))), " ")
	m.Dnsperf = dnsperfVersion()
	git := exec.Command("git", "describe", "--always", "--dirty")
	git.Dir = root
	m.Commit = firstLine(git)
	m.LoadStart = LoadAvg()
	m.Others = OtherWork()
	return m
}

// LoadAvg is the first three fields of /proc/loadavg.
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// OtherWork lists running kube-apiserver and `go test` processes, as pgrep -f would: other
// clusters and test runs sharing the machine.
func OtherWork() []string {
	out, err := exec.Command("pgrep", "-af", "kube-apiserver|go test").Output()
	if err != nil {
		return nil // pgrep exits 1 when nothing matches
	}
	var procs []string
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		if len(line) > 100 {
			line = line[:100] + "..."
		}
		procs = append(procs, line)
	}
	return procs
}

func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func firstLine(cmd *exec.Cmd) string {
	out, err := cmd.Output()
	if err != nil {
		return fmt.Sprintf("unknown (%v)", err)
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}

// dnsperfVersion is the "Version" line dnsperf prints with -h.
func dnsperfVersion() string {
	out, _ := exec.Command("dnsperf", "-h").CombinedOutput()
	for line := range strings.SplitSeq(string(out), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Version "); ok {
			return v
		}
	}
	return "unknown"
}
