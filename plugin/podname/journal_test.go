package podname

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coredns/coredns/plugin/transfer"

	"github.com/podname/podname/plugin/podname/index"
)

func rec(name string) index.Record {
	return index.Record{Name: name, IP: netip.MustParseAddr("10.0.0.1")}
}

func recs(names ...string) []index.Record {
	out := make([]index.Record, 0, len(names))
	for _, n := range names {
		out = append(out, rec(n))
	}
	return out
}

// chain describes the journal's steps as from>to(-del+add ...).
func chain(steps []*step) string {
	out := ""
	for _, s := range steps {
		out += fmt.Sprintf("%d>%d(", s.from, s.to)
		for _, r := range sorted(s.del) {
			out += "-" + r.Name
		}
		for _, r := range sorted(s.add) {
			out += "+" + r.Name
		}
		out += ")"
	}
	return out
}

func sorted(rs []index.Record) []index.Record {
	rs = slices.Clone(rs)
	slices.SortFunc(rs, func(a, b index.Record) int { return strings.Compare(a.Name, b.Name) })
	return rs
}

func TestJournalSince(t *testing.T) {
	now := time.Unix(1000, 0)
	j := newJournal(100, time.Hour)
	j.add(1, 5, nil, recs("a"), now)
	j.add(5, 9, recs("a"), recs("b"), now)
	j.add(9, 12, nil, recs("c"), now)
	for serial, want := range map[uint32]string{
		1:  "1>5(+a)5>9(-a+b)9>12(+c)",
		5:  "5>9(-a+b)9>12(+c)",
		9:  "9>12(+c)",
		12: "", // ours: the caller answers with the lone SOA
		3:  "", // never ours
		0:  "",
	} {
		if got := chain(j.since(serial, now)); got != want {
			t.Errorf("since(%d) = %s, want %s", serial, got, want)
		}
	}
}

func TestJournalBounds(t *testing.T) {
	now := time.Unix(1000, 0)
	j := newJournal(4, time.Minute)
	j.add(1, 2, nil, recs("a", "b"), now)
	j.add(2, 3, nil, recs("c", "d"), now)
	if got := chain(j.since(1, now)); got != "1>2(+a+b)2>3(+c+d)" {
		t.Fatalf("within bounds: %s", got)
	}
	j.add(3, 4, recs("a"), nil, now)
	if j.since(1, now) != nil || chain(j.since(2, now)) != "2>3(+c+d)3>4(-a)" || j.records != 3 {
		t.Fatalf("over 4 records the oldest step must go: %s (%d records)", chain(j.steps), j.records)
	}
	if got := chain(j.since(2, now.Add(2*time.Minute))); got != "" || j.records != 0 {
		t.Fatalf("steps older than a minute kept: %s (%d records)", got, j.records)
	}
	j.add(4, 5, nil, recs("e"), now)
	j.add(5, 6, nil, recs("f", "g", "h", "i", "j"), now)
	if len(j.steps) != 0 || j.records != 0 {
		t.Fatalf("a step bigger than the journal must empty it: %s", chain(j.steps))
	}
	j.add(6, 7, nil, recs("k"), now)
	if got := chain(j.since(6, now)); got != "6>7(+k)" {
		t.Fatalf("after emptying, the journal starts again: %s", got)
	}
}

func TestJournalMerge(t *testing.T) {
	now := time.Unix(1000, 0)
	j := newJournal(100, time.Hour)
	j.add(1, 5, recs("a"), recs("b"), now)
	held := j.steps[0]
	for _, tc := range []struct {
		del, add []index.Record
		want     string
	}{
		{recs("b"), recs("c"), "1>5(-a+c)"}, // b came and went within the step
		{nil, recs("a"), "1>5(+c)"},         // a is back as it was
		{recs("x"), nil, "1>5(-x+c)"},       // x was there before the step
		{recs("c"), recs("x"), "1>5()"},     // nothing changed in the end
		{nil, recs("d", "e"), "1>5(+d+e)"},
		{recs("d"), recs("f"), "1>5(+e+f)"},
		{recs("e", "f"), nil, "1>5()"},
		{nil, recs("g"), "1>5(+g)"},
		{recs("g"), recs("g2"), "1>5(+g2)"},
		{recs("zz"), recs("zz2"), "1>5(-zz+g2+zz2)"},
	} {
		j.merge(5, tc.del, tc.add, now)
		if got := chain(j.steps); got != tc.want {
			t.Fatalf("merge -%v +%v: %s, want %s", tc.del, tc.add, got, tc.want)
		}
	}
	if chain([]*step{held}) != "1>5(-a+b)" {
		t.Fatal("merge changed a step a transfer may be sending")
	}
	j.merge(4, recs("q"), nil, now)
	if got := chain(j.steps); got != "1>5(-zz+g2+zz2)" {
		t.Fatalf("a merge into a serial the last step does not end at changed it: %s", got)
	}
}

// TestJournalOnlyWithTransfer: zones keep journals only when the server
// block has the transfer plugin.
func TestJournalOnlyWithTransfer(t *testing.T) {
	client, podWatches := watchedClient()
	without := startedPlugin(t, client, podWatches, func(p *PodName) {
		p.xfrOpts = defaultTransferOptions()
		p.xfrOpts.plugin = func() secondaries { return nil }
	})
	with := startedPlugin(t, client, podWatches, func(p *PodName) {
		p.conn.Endpoint = "http://fake-with-transfer"
		p.xfrOpts = defaultTransferOptions()
		p.xfrOpts.plugin = func() secondaries { return &transfer.Transfer{} }
	})
	if j := without.zs.byName[zone].journal; j != nil {
		t.Error("a journal without the transfer plugin")
	}
	if j := with.zs.byName[zone].journal; j == nil || j.max != defaultJournalRecords || j.age != defaultJournalAge {
		t.Errorf("journal with the transfer plugin: %+v", j)
	}
}

// TestCondense: steps fold into their net difference; a record added and
// removed on the way is in neither list, one removed and added back too.
func TestCondense(t *testing.T) {
	steps := []*step{
		{from: 1, to: 2, del: recs("a"), add: recs("b")},
		{from: 2, to: 3, del: recs("b", "c"), add: recs("d")},
		{from: 3, to: 4, del: recs("d"), add: recs("c", "e")},
	}
	if got, want := chain([]*step{condense(steps)}), "1>4(-a+e)"; got != want {
		t.Errorf("condense = %s, want %s", got, want)
	}
	if got, want := chain([]*step{condense(steps[1:2])}), "2>3(-b-c+d)"; got != want {
		t.Errorf("condense of one step = %s, want %s", got, want)
	}
}
