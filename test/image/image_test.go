package image

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podname/podname/test/harness"
)

// testImage is the repository `make image-local` builds the image under test into; the tag is
// the test's PID, and the image goes when the test ends.
const testImage = "localhost/podname-image-test"

// Environment of the test run again inside the network namespace.
const (
	imageEnv   = "PODNAME_IMAGE_REF"     // the image's reference
	mountNSEnv = "PODNAME_IMAGE_MOUNTNS" // the outside's mount namespace, /proc/PID/ns/mnt
)

// TestImage builds the image with `make image-local`, compares its layout with the Dockerfile's
// final stage, and runs it as deploy/overlays/standalone runs it: see runInside. The image is
// built outside; the rest runs in a network namespace the test makes, as TestImage again
// (PODNAME_NETNS set), with the test cluster and the container (podman --network host) on the
// namespace's loopback, so that the container binds the real ports 53, 8080, 8181 and 9153.
func TestImage(t *testing.T) {
	if ns := os.Getenv(harness.NetnsEnv); ns != "" {
		runInside(t, ns)
		return
	}
	start := time.Now()
	ref := buildImage(t)
	size, err := strconv.ParseInt(strings.TrimSpace(podman(t, "image", "inspect", "--format", "{{.Size}}", ref)), 10, 64)
	if err != nil {
		t.Fatalf("size of %s: %v", ref, err)
	}
	t.Logf("built %s in %s: %.1f MB", ref, time.Since(start).Round(time.Millisecond), float64(size)/1e6)
	t.Run("layout", func(t *testing.T) { checkLayout(t, ref) })
	configurePodman(t, ref)
	ns := harness.Netns(t, "podname-image-", "image-test")
	harness.RunInNetns(t, ns, "TestImage", imageEnv+"="+ref,
		fmt.Sprintf("%s=/proc/%d/ns/mnt", mountNSEnv, os.Getpid()))
}

// buildImage runs `make image-local` into testImage and returns the image's reference; the
// image is removed when t ends.
func buildImage(t *testing.T) string {
	t.Helper()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	tag := strconv.Itoa(os.Getpid())
	ref := testImage + ":" + tag
	out, err := exec.Command("make", "--no-print-directory", "-C", root, "image-local",
		"IMAGE="+testImage, "IMAGE_TAG="+tag).CombinedOutput()
	if err != nil {
		t.Fatalf("make image-local: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("podman", "rmi", "--force", ref).CombinedOutput(); err != nil {
			t.Errorf("podman rmi %s: %v: %s", ref, err, out)
		}
	})
	return ref
}

// containersConf is the configuration rootful podman merges over its built-in defaults.
const containersConf = "/etc/containers/containers.conf"

// hybridCgroupsConf is what podman needs on a kernel whose cgroups are in the hybrid layout
// (v1 controllers, cgroup2 only at /sys/fs/cgroup/unified), as on the machines this was
// checked on:
//   - default_ulimits = []: podman passes its default nofile limit to the runtime, and runc
//     fails before the container starts ("error setting rlimits for ready process: error
//     setting rlimit type 7: operation not permitted");
//   - runtime = "runc": crun, podman's first choice when it is installed, refuses hybrid
//     cgroups.
const hybridCgroupsConf = `# Written by podname's test/image (make image-test): podman on hybrid cgroups.
[containers]
default_ulimits = []

[engine]
runtime = "runc"
`

// configurePodman makes sure podman can run ref here. Where a first run fails and the host's
// cgroups are the hybrid layout, it writes hybridCgroupsConf as containersConf, unless that file
// exists already (then it says what to add); everywhere else podman's defaults are left alone.
func configurePodman(t *testing.T, ref string) {
	t.Helper()
	out, err := runVersion(ref)
	if err == nil {
		return
	}
	if !hybridCgroups() {
		t.Fatalf("podman cannot run %s: %v\n%s", ref, err, out)
	}
	if _, serr := os.Stat(containersConf); serr == nil {
		t.Fatalf("podman cannot run %s on this host's hybrid cgroups: %v\n%s\n%s exists: add to it\n%s",
			ref, err, out, containersConf, hybridCgroupsConf)
	}
	if err := os.MkdirAll(filepath.Dir(containersConf), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(containersConf, []byte(hybridCgroupsConf), 0o644); err != nil {
		t.Fatalf("configure podman for hybrid cgroups: %v", err)
	}
	t.Logf("podman failed on this host's hybrid cgroups (%v); wrote %s", err, containersConf)
	if out, err := runVersion(ref); err != nil {
		t.Fatalf("podman cannot run %s even with %s: %v\n%s", ref, containersConf, err, out)
	}
}

// runVersion runs the image with -version and no network: a container that starts and ends.
func runVersion(ref string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "podman", "run", "--rm", "--network", "none", ref, "-version").CombinedOutput()
	if err == nil && !bytes.Contains(out, []byte("CoreDNS-")) {
		err = errors.New("no CoreDNS version printed")
	}
	return out, err
}

// hybridCgroups reports whether /sys/fs/cgroup is not the unified cgroup2 hierarchy.
func hybridCgroups() bool {
	const cgroup2Magic = 0x63677270
	var st syscall.Statfs_t
	if err := syscall.Statfs("/sys/fs/cgroup", &st); err != nil {
		return false
	}
	return st.Type != cgroup2Magic
}

// sharedDir is a directory of t's that the container's user (uid 65532) can read, with files
// written into it by name.
func sharedDir(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatalf("write %s: %v", name, err)
		}
	}
	return dir
}

// containerName names a container of this test uniquely on the host.
func containerName(what string) string {
	return fmt.Sprintf("podname-image-test-%d-%s", os.Getpid(), what)
}

// podmanInNetns is podman with args, run from inside the network namespace but in the outside's
// mount namespace. `ip netns exec` gives the test a mount namespace of its own with a fresh
// /sys mounted for the network namespace, and the cgroup filesystems under /sys/fs/cgroup are
// not in it; runc needs them ("runc create failed: no cgroup mount found in mountinfo"). nsenter
// switches the mount namespace only, so --network host is still the network namespace's.
func podmanInNetns(ctx context.Context, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "nsenter", append([]string{"--mount=" + os.Getenv(mountNSEnv), "podman"}, args...)...)
}
