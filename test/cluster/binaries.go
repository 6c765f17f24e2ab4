package cluster

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// The versions test/tools/build.sh builds; keep them in step with it and the tools modules.
const (
	kubernetesVersion = "v1.37.2"
	etcdVersion       = "v3.7.3"
	kwokVersion       = "v0.8.0"
)

// Component names, used for binaries, log files and errors.
const (
	etcdName              = "etcd"
	apiServerName         = "kube-apiserver"
	controllerManagerName = "kube-controller-manager"
	schedulerName         = "kube-scheduler"
	kwokName              = "kwok"
	kubectlName           = "kubectl"
)

// binaries lists every file build.sh makes except the kwok stages, by component name.
var binaries = []string{etcdName, apiServerName, controllerManagerName, schedulerName, kubectlName, kwokName}

// binaryFile is the name build.sh gives the binary of component: the name and its version.
func binaryFile(component string) string {
	version := kubernetesVersion
	switch component {
	case etcdName:
		version = etcdVersion
	case kwokName:
		version = kwokVersion
	}
	return component + "-" + version
}

// kwokStagesFile is the file of kwok stages build.sh writes next to the binaries.
const kwokStagesFile = "kwok-stages-" + kwokVersion + ".yaml"

// BinDir is where test/tools/build.sh puts the binaries: $PODNAME_CACHE/bin, or
// $HOME/.cache/podname/bin when PODNAME_CACHE is unset.
func BinDir() string {
	return filepath.Join(CacheDir(), "bin")
}

// CacheDir is $PODNAME_CACHE, or $HOME/.cache/podname when it is unset.
func CacheDir() string {
	if dir := os.Getenv("PODNAME_CACHE"); dir != "" {
		return dir
	}
	home, err := os.UserHomeDir()
	if err != nil {
		// No home: a relative path still keeps the build and the lookup in agreement.
		return filepath.Join(".cache", "podname")
	}
	return filepath.Join(home, ".cache", "podname")
}

// KubectlPath is the kubectl in BinDir, for tests that drive the cluster the way a user would.
func KubectlPath() string {
	return filepath.Join(BinDir(), binaryFile(kubectlName))
}

// EnsureBinaries runs test/tools/build.sh when a file it makes is missing from BinDir. A cold
// build takes about ten minutes on two cores, longer than go test's default timeout; run
// the tools build first (make tools) or raise -timeout.
func EnsureBinaries() error {
	missing := missingBinaries(BinDir())
	if len(missing) == 0 {
		return nil
	}
	root, err := repoRoot()
	if err != nil {
		return fmt.Errorf("build %v: %w", missing, err)
	}
	cmd := exec.Command("bash", filepath.Join(root, "test", "tools", "build.sh"))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build %v with test/tools/build.sh: %w", missing, err)
	}
	if missing := missingBinaries(BinDir()); len(missing) != 0 {
		return fmt.Errorf("test/tools/build.sh did not make %v in %s; do its versions match package cluster's?", missing, BinDir())
	}
	return nil
}

// missingBinaries lists the files build.sh makes that are absent from dir.
func missingBinaries(dir string) []string {
	var missing []string
	for _, name := range binaries {
		if !fileExists(filepath.Join(dir, binaryFile(name))) {
			missing = append(missing, binaryFile(name))
		}
	}
	if !fileExists(filepath.Join(dir, kwokStagesFile)) {
		missing = append(missing, kwokStagesFile)
	}
	return missing
}

// repoRoot walks up from the working directory to the module root that holds test/tools/build.sh.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for {
		if fileExists(filepath.Join(dir, "go.mod")) && fileExists(filepath.Join(dir, "test", "tools", "build.sh")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find repository root: no go.mod with test/tools/build.sh above the working directory")
		}
		dir = parent
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
