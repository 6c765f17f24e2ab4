package seed

import (
	"reflect"
	"testing"
)

func TestParseWatch(t *testing.T) {
	log := "ws: watch starting\n" +
		"registry \n" +
		"registry a.mgmt.pix.yun.com:9999,b.mgmt.pix.yun.com:9999\n" +
		"dial a.mgmt.pix.yun.com:9999 10.36.0.1 ok a\n" +
		"dial b.mgmt.pix.yun.com:9999 - nxdomain [Errno -2] Name or service not known\n" +
		"dial b.mgmt.pix.yun.com:9999 10.36.0.1 wro" // still being written
	want := []watchLine{
		{registry: []string{}},
		{registry: []string{"a.mgmt.pix.yun.com:9999", "b.mgmt.pix.yun.com:9999"}},
		{entry: "a.mgmt.pix.yun.com:9999", ip: "10.36.0.1", result: "ok", detail: "a"},
		{entry: "b.mgmt.pix.yun.com:9999", ip: "-", result: "nxdomain", detail: "[Errno -2] Name or service not known"},
	}
	if got := parseWatch(log); !reflect.DeepEqual(got, want) {
		t.Errorf("parseWatch =\n%+v\nwant\n%+v", got, want)
	}
}
