package podname

import (
	"strconv"
	"time"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/plugin/transfer"
)

const (
	defaultJournalRecords = 5000
	maxJournalRecords     = 1_000_000
	defaultJournalAge     = time.Hour
	defaultNotifyInterval = time.Second
)

// transferOptions are a stanza's options for zone transfers; they matter
// only when the server block has the transfer plugin.
type transferOptions struct {
	journalRecords int
	journalAge     time.Duration
	notifyInterval time.Duration
	// plugin finds the server block's transfer plugin once the server is
	// built; nil when there is none.
	plugin func() secondaries
}

// secondaries is where NOTIFYs go: the transfer plugin's `to` addresses.
type secondaries interface{ Notify(zone string) error }

func defaultTransferOptions() transferOptions {
	return transferOptions{journalRecords: defaultJournalRecords, journalAge: defaultJournalAge, notifyInterval: defaultNotifyInterval}
}

// transferPlugin looks the transfer plugin up in the server block's config,
// as the file plugin does; the registry is filled only when the server is built.
func transferPlugin(cfg *dnsserver.Config) func() secondaries {
	return func() secondaries {
		if t, ok := cfg.Handler("transfer").(*transfer.Transfer); ok && t != nil {
			return t
		}
		return nil
	}
}

// parseJournal reads `ixfr_journal RECORDS [AGE]`.
func parseJournal(c *caddy.Controller, p *PodName) error {
	args := c.RemainingArgs()
	if len(args) != 1 && len(args) != 2 {
		return argErr(c, "ixfr_journal", "RECORDS [AGE]")
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 0 || n > maxJournalRecords {
		return c.Errf("ixfr_journal: %q is not a number of records from 0 to %d", args[0], maxJournalRecords)
	}
	p.xfrOpts.journalRecords = n
	if len(args) == 2 {
		d, err := time.ParseDuration(args[1])
		if err != nil || d <= 0 {
			return c.Errf("ixfr_journal: %q is not a duration such as 1h", args[1])
		}
		p.xfrOpts.journalAge = d
	}
	return nil
}

// parseNotifyInterval reads `notify_interval DURATION`.
func parseNotifyInterval(c *caddy.Controller, p *PodName) error {
	args := c.RemainingArgs()
	if len(args) != 1 {
		return argErr(c, "notify_interval", "DURATION")
	}
	d, err := time.ParseDuration(args[0])
	if err != nil || d <= 0 {
		return c.Errf("notify_interval: %q is not a duration such as 1s", args[0])
	}
	p.xfrOpts.notifyInterval = d
	return nil
}
