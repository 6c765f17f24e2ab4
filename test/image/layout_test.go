package image

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/podname/podname/test/harness"
)

// layout is what a user of the image sees of it: its files, user, entrypoint and ports.
type layout struct {
	Files      []string // regular files, absolute, sorted
	User       string
	Entrypoint []string
	Ports      []string // "53/tcp", sorted
}

func (l layout) String() string {
	return fmt.Sprintf("files %v, user %q, entrypoint %q, ports %v", l.Files, l.User, l.Entrypoint, l.Ports)
}

// checkLayout compares the image ref, as `make image-local` built it, with the final stage of
// the Dockerfile that docker users build: the same files at the same paths, user, entrypoint
// and exposed ports, and the entrypoint given cap_net_bind_service in both.
func checkLayout(t *testing.T, ref string) {
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	want, setcaps := dockerfileLayout(t, filepath.Join(root, "Dockerfile"))
	got, mount := imageLayout(t, ref)
	if want.String() != got.String() {
		t.Errorf("the Dockerfile's final stage and make image-local differ:\nDockerfile:  %s\nimage-local: %s", want, got)
	}
	if len(want.Entrypoint) == 0 {
		t.Fatal("the Dockerfile's final stage has no ENTRYPOINT")
	}
	entry := want.Entrypoint[0]
	if !slices.Contains(setcaps, entry) {
		t.Errorf("the Dockerfile gives cap_net_bind_service=+ep to %v, not to the entrypoint %s", setcaps, entry)
	}
	out, err := exec.Command("getcap", filepath.Join(mount, entry)).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "cap_net_bind_service=ep") {
		t.Errorf("%s in the image lacks cap_net_bind_service=ep: getcap says %q (%v)", entry, strings.TrimSpace(string(out)), err)
	}
}

// setcapLine is a RUN of the Dockerfile that gives a file the capability to bind ports below 1024.
var setcapLine = regexp.MustCompile(`\bsetcap cap_net_bind_service=\+ep (\S+)`)

// dockerfileLayout reads the final stage of the Dockerfile at path, and the files that any
// stage's RUN gives cap_net_bind_service=+ep.
func dockerfileLayout(t *testing.T, path string) (layout, []string) {
	t.Helper()
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read the Dockerfile: %v", err)
	}
	var l layout
	var setcaps []string
	for _, line := range instructions(string(text)) {
		op, rest, _ := strings.Cut(line, " ")
		args := strings.Fields(rest)
		switch strings.ToUpper(op) {
		case "FROM": // a new stage: only the last one is the image
			l = layout{}
		case "RUN":
			for _, m := range setcapLine.FindAllStringSubmatch(rest, -1) {
				setcaps = append(setcaps, m[1])
			}
		case "COPY", "ADD":
			for len(args) > 0 && strings.HasPrefix(args[0], "--") {
				args = args[1:]
			}
			if len(args) < 2 {
				t.Fatalf("Dockerfile: %q copies nothing", line)
			}
			dest := args[len(args)-1]
			for _, src := range args[:len(args)-1] {
				if strings.HasSuffix(dest, "/") {
					l.Files = append(l.Files, dest+pathBase(src))
				} else {
					l.Files = append(l.Files, dest)
				}
			}
		case "USER":
			l.User = strings.TrimSpace(rest)
		case "EXPOSE":
			for _, p := range args {
				if !strings.Contains(p, "/") {
					p += "/tcp"
				}
				l.Ports = append(l.Ports, p)
			}
		case "ENTRYPOINT":
			if err := json.Unmarshal([]byte(rest), &l.Entrypoint); err != nil {
				t.Fatalf("Dockerfile: ENTRYPOINT %s is not in exec form: %v", rest, err)
			}
		}
	}
	slices.Sort(l.Files)
	slices.Sort(l.Ports)
	return l, setcaps
}

// pathBase is the last element of a COPY source.
func pathBase(src string) string { return path.Base(strings.TrimSuffix(src, "/")) }

// instructions are the Dockerfile's instructions, one a line, continuations joined and comments
// dropped.
func instructions(text string) []string {
	var out []string
	var cur strings.Builder
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || (line == "" && cur.Len() == 0) {
			continue
		}
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(cont + " ")
			continue
		}
		cur.WriteString(line)
		out = append(out, strings.Join(strings.Fields(cur.String()), " "))
		cur.Reset()
	}
	return out
}

// imageLayout reads the layout of image ref from podman, with its files from a read-only mount
// of the image, whose path it returns; the mount goes when t ends.
func imageLayout(t *testing.T, ref string) (layout, string) {
	t.Helper()
	var inspect []struct {
		Config struct {
			User         string
			Entrypoint   []string
			ExposedPorts map[string]struct{}
		}
	}
	if err := json.Unmarshal([]byte(podman(t, "image", "inspect", ref)), &inspect); err != nil || len(inspect) != 1 {
		t.Fatalf("podman image inspect %s: %v", ref, err)
	}
	cfg := inspect[0].Config
	l := layout{User: cfg.User, Entrypoint: cfg.Entrypoint}
	for p := range cfg.ExposedPorts {
		l.Ports = append(l.Ports, p)
	}
	slices.Sort(l.Ports)

	mount := strings.TrimSpace(podman(t, "image", "mount", ref))
	t.Cleanup(func() {
		if out, err := exec.Command("podman", "image", "unmount", ref).CombinedOutput(); err != nil {
			t.Errorf("podman image unmount %s: %v: %s", ref, err, out)
		}
	})
	err := filepath.WalkDir(mount, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(mount, p)
		l.Files = append(l.Files, "/"+rel)
		return err
	})
	if err != nil {
		t.Fatalf("list the files of %s: %v", ref, err)
	}
	slices.Sort(l.Files)
	return l, mount
}

// podman runs podman with args and returns its stdout, failing t with its stderr.
func podman(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command("podman", args...).Output()
	if err != nil {
		var stderr []byte
		if exit := (*exec.ExitError)(nil); errors.As(err, &exit) {
			stderr = exit.Stderr
		}
		t.Fatalf("podman %s: %v: %s", strings.Join(args, " "), err, stderr)
	}
	return string(out)
}
