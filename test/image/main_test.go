package image

import (
	"os"
	"testing"

	"github.com/podname/podname/test/harness"
)

func TestMain(m *testing.M) {
	os.Exit(harness.Main(m, "image", "image-test", nil,
		harness.NeedRoot, harness.NeedCoreDNS, harness.NeedCluster,
		harness.NeedCommand("make", "make"), harness.NeedCommand("podman", "podman"),
		harness.NeedCommand("runc", "runc"), harness.NeedCommand("setcap", "libcap2-bin"),
		harness.NeedCommand("getcap", "libcap2-bin"), harness.NeedCommand("ip", "iproute2"),
		harness.NeedCommand("nsenter", "util-linux"),
		harness.NeedCommand("dig", "bind9-dnsutils")))
}
