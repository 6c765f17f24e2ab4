package bench

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/podname/podname/test/harness"
)

// RoleBIND is BIND's named, a secondary of podname, in the churn figures.
const RoleBIND = "bind"

// journalDefault is the records bound of `ixfr_journal` when the Corefile does not set it.
const journalDefault = 5000

// SecondaryResult is section 7's secondary: BIND following a podname with the transfer plugin
// (the primary) through the podname churn pass, beside the pass's own podname without it.
type SecondaryResult struct {
	// Every is how often BIND was asked: for every Every-th pod of the churn.
	Every     int
	Corefile  string // the primary's
	NamedConf string
	// First is BIND's first transfer of the zone, the whole of it, as named counted it; Check
	// the bench's own AXFR of the primary at the same serial, FirstSerial.
	First       harness.Transfer
	Check       XfrRun
	FirstSerial uint32
	// Transfers are those BIND logged from the start of churn until it held the last change.
	Transfers []harness.Transfer
	// Changes is how many pods churn created and deleted, in Elapsed.
	Changes int
	Elapsed time.Duration
	// HeapWith and HeapWithout are go_memstats_heap_inuse_bytes after a forced GC (the median
	// of three) of the primary and of the pass's own podname, after churn; RSS likewise, once.
	HeapWith, HeapWithout, RSSWith, RSSWithout float64
	// JournalRecords is what the primary's IXFR journal held then: every change under churn,
	// at most journalDefault.
	JournalRecords int
}

// secondaryRun is BIND and its primary while a churn pass runs.
type secondaryRun struct {
	primary *Server
	bind    *harness.Secondary
	res     *SecondaryResult
	before  int // transfers BIND had logged before churn
}

// secondaryTimeout bounds the primary's start and BIND's first transfer at the largest size.
const secondaryTimeout = 3 * time.Minute

// startSecondary starts in dir a podname with the transfer plugin that holds pods pods, and
// BIND as its secondary, and waits until BIND serves the zone at the primary's serial.
func (b *Bench) startSecondary(ctx context.Context, dir string, pods int) (sec *secondaryRun, err error) {
	fail := func(err error) (*secondaryRun, error) {
		if sec != nil {
			sec.stop()
		}
		return nil, fmt.Errorf("secondary: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, secondaryTimeout)
	defer cancel()
	pdir, bdir := filepath.Join(dir, "primary"), filepath.Join(dir, "bind")
	for _, d := range []string{pdir, bdir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fail(err)
		}
	}
	ports, err := harness.FreePorts("127.0.0.1", 1)
	if err != nil {
		return fail(err)
	}
	bindAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	conf, err := PrimaryCorefile(b.kubeconfig, bindAddr)
	if err != nil {
		return fail(err)
	}
	sec = &secondaryRun{res: &SecondaryResult{Corefile: conf.Text}}
	if sec.primary, err = StartServer(pdir, conf); err != nil {
		return fail(err)
	}
	if err := sec.primary.WaitReady(ctx); err != nil {
		return fail(err)
	}
	if err := sec.primary.WaitMetric(ctx, "coredns_podname_pods", nil, float64(pods)); err != nil {
		return fail(err)
	}
	serial, err := harness.Serial(conf.DNSAddr, Zone)
	if err != nil {
		return fail(err)
	}
	b.logf("churn, secondary: BIND following podname at %s, serial %d", conf.DNSAddr, serial)
	sec.bind, err = harness.StartBIND(bdir, harness.SecondaryOptions{Addr: bindAddr, Primary: conf.DNSAddr, Zones: []string{Zone}})
	if err != nil {
		return fail(err)
	}
	if err := sec.bind.WaitSerial(ctx, Zone, serial); err != nil {
		return fail(err)
	}
	if sec.res.Check, err = axfr(conf.DNSAddr, pods); err != nil {
		return fail(err)
	}
	ts, err := sec.completed(ctx)
	if err != nil {
		return fail(err)
	}
	sec.res.First, sec.res.FirstSerial, sec.before = ts[0], serial, len(ts)
	if text, err := os.ReadFile(filepath.Join(bdir, "named.conf")); err == nil {
		sec.res.NamedConf = string(text)
	}
	b.logf("churn, secondary: BIND's first transfer: %d bytes in %d messages; the bench's AXFR: %d bytes in %d messages",
		sec.res.First.Bytes, sec.res.First.Messages, sec.res.Check.Bytes, sec.res.Check.Messages)
	return sec, nil
}

// completed waits until named has logged the end of every transfer it began, and returns them.
func (s *secondaryRun) completed(ctx context.Context) ([]harness.Transfer, error) {
	var ts []harness.Transfer
	err := harness.Poll(ctx, "BIND's transfers to complete", func() (bool, error) {
		ts = s.bind.Transfers()
		for _, t := range ts {
			if t.Messages == 0 {
				return false, nil
			}
		}
		return len(ts) > 0, nil
	})
	return ts, err
}

// finish waits until BIND holds every change churn made (changes pods created and deleted in
// elapsed), reads the transfers since churn began, and the heap of the primary and of
// without, the pass's podname without the transfer plugin.
func (s *secondaryRun) finish(ctx context.Context, without *Server, changes int, elapsed time.Duration) (*SecondaryResult, error) {
	fail := func(err error) (*SecondaryResult, error) { return nil, fmt.Errorf("secondary after churn: %w", err) }
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	res := s.res
	res.Changes, res.Elapsed, res.JournalRecords = changes, elapsed, min(changes, journalDefault)
	serial, err := harness.Serial(s.primary.DNSAddr, Zone)
	if err != nil {
		return fail(err)
	}
	if err := s.bind.WaitSerial(ctx, Zone, serial); err != nil {
		return fail(err)
	}
	ts, err := s.completed(ctx)
	if err != nil {
		return fail(err)
	}
	res.Transfers = ts[s.before:]
	if res.HeapWith, err = s.primary.liveHeap(ctx); err != nil {
		return fail(err)
	}
	if res.HeapWithout, err = without.liveHeap(ctx); err != nil {
		return fail(err)
	}
	for _, m := range []struct {
		srv *Server
		rss *float64
	}{{s.primary, &res.RSSWith}, {without, &res.RSSWithout}} {
		mem, err := m.srv.ProcMemory()
		if err != nil {
			return fail(err)
		}
		*m.rss = mem.RSS
	}
	return res, nil
}

// stop ends BIND, then its primary.
func (s *secondaryRun) stop() {
	if s.bind != nil {
		_ = s.bind.Stop()
	}
	if s.primary != nil {
		_ = s.primary.Stop()
	}
}

// TransferBytes sums the bytes named counted over ts.
func TransferBytes(ts []harness.Transfer) int {
	n := 0
	for _, t := range ts {
		n += t.Bytes
	}
	return n
}

// CheckFirst compares named's count of its first transfer with the bench's AXFR at the same
// serial: named counts DNS messages without TCP's 2-byte lengths.
func (r *SecondaryResult) CheckFirst() (ours int, same bool) {
	ours = r.Check.Bytes - 2*r.Check.Messages
	return ours, ours == r.First.Bytes && r.Check.Messages == r.First.Messages && r.First.Records == r.Check.Records
}
