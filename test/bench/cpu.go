package bench

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CPUUse is how many cores a process (or a group of them) used over a phase.
type CPUUse struct {
	Name  string
	Cores float64
}

// cpuSnapshot is the CPU time of every process at one moment, in clock ticks.
type cpuSnapshot struct {
	at    time.Time
	ticks map[int]int64
}

// otherProcesses is the name of the processes not named, summed.
const otherProcesses = "other processes"

// clockTick is USER_HZ, 100 on every Linux this runs on.
const clockTick = 10 * time.Millisecond

func snapshotCPU() cpuSnapshot {
	s := cpuSnapshot{at: time.Now(), ticks: map[int]int64{}}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		if t, err := procTicks(pid); err == nil {
			s.ticks[pid] = t
		}
	}
	return s
}

// procTicks is utime+stime of pid: all its threads, not its reaped children.
func procTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, field 2, is in parentheses and may hold spaces; count after it.
	_, rest, ok := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	var ticks int64
	for _, field := range f[11:13] { // utime and stime, fields 14 and 15
		n, err := strconv.ParseInt(field, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		ticks += n
	}
	return ticks, nil
}

// cpuSince is the cores each named process used since s, the rest summed as other
// processes, busiest first. names maps the PIDs worth naming.
func cpuSince(s cpuSnapshot, names map[int]string) []CPUUse {
	byName, wall := cpuTimeSince(s, names)
	var out []CPUUse
	for name, d := range byName {
		out = append(out, CPUUse{Name: name, Cores: d.Seconds() / wall.Seconds()})
	}
	slices.SortFunc(out, func(a, b CPUUse) int { return cmp.Compare(b.Cores, a.Cores) })
	return out
}

// cpuTimeSince is the CPU time (user and system) each named process used since s, the rest
// summed as other processes, and the wall time since s. names maps the PIDs worth naming.
func cpuTimeSince(s cpuSnapshot, names map[int]string) (map[string]time.Duration, time.Duration) {
	now := snapshotCPU()
	byName := map[string]time.Duration{}
	for pid, t := range now.ticks {
		d := t - s.ticks[pid] // a process started since counts from zero
		if d <= 0 {
			continue
		}
		name, ok := names[pid]
		if !ok {
			name = otherProcesses
		}
		byName[name] += time.Duration(d) * clockTick
	}
	return byName, now.at.Sub(s.at)
}

// processNames names the cluster's components, this process, and extra.
func (b *Bench) processNames(extra map[int]string) map[int]string {
	names := map[int]string{os.Getpid(): "bench (clients, watch, DNS queries)"}
	if b.cluster != nil {
		for name, pid := range b.cluster.PIDs() {
			names[pid] = name
		}
	}
	for pid, name := range extra {
		names[pid] = name
	}
	return names
}

// FormatCPU writes uses as "kube-apiserver 0.81, coredns 0.12, ...".
func FormatCPU(uses []CPUUse) string {
	var parts []string
	for _, u := range uses {
		if u.Cores >= 0.005 {
			parts = append(parts, fmt.Sprintf("%s %.2f", u.Name, u.Cores))
		}
	}
	return strings.Join(parts, ", ")
}

// Before each coredns whose start it measures, the bench waits for the cluster's own processes
// to go quiet: one still catching up with pods just created (kwok setting their status, a
// controller relisting) would share the cores with the sync being measured.
const (
	settleCores   = 0.25 // the cluster's processes together, at most
	settleWindow  = 500 * time.Millisecond
	settleQuiet   = 2 // windows in a row
	settleTimeout = 2 * time.Minute
)

// settle waits until the cluster's processes have used under settleCores together over
// settleQuiet windows in a row. After settleTimeout it logs how busy they were and goes on.
func (b *Bench) settle(ctx context.Context) error {
	if b.cluster == nil {
		return nil
	}
	names := map[int]string{}
	for name, pid := range b.cluster.PIDs() {
		names[pid] = name
	}
	deadline := time.Now().Add(settleTimeout)
	for quiet := 0; quiet < settleQuiet; {
		s := snapshotCPU()
		if err := sleepCtx(ctx, settleWindow); err != nil {
			return err
		}
		uses := cpuSince(s, names)
		busy := 0.0
		for _, u := range uses {
			if u.Name != otherProcesses {
				busy += u.Cores
			}
		}
		if quiet++; busy >= settleCores {
			quiet = 0
		}
		if quiet < settleQuiet && time.Now().After(deadline) {
			b.logf("cluster still busy after %s, measuring anyway: %s", settleTimeout, FormatCPU(uses))
			return nil
		}
	}
	return nil
}
