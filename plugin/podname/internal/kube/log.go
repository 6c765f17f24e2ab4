package kube

import (
	"strconv"
	"time"

	clog "github.com/coredns/coredns/plugin/pkg/log"
)

// log writes as the plugin does: "plugin/podname: ...".
var log = clog.NewWithPlugin(subsystem)

// seconds formats d for the logs, in seconds to the millisecond: "12.3s".
func seconds(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Round(time.Millisecond).Milliseconds())/1000, 'f', -1, 64) + "s"
}
