package cluster

import (
	"fmt"
	"os"
	"path/filepath"
)

// The versions test/tools/build.sh builds; keep them in step with it and the tools modules.
const (
	kubernetesVersion = "v1.37.2"
	etcdVersion       = "v3.7.3"
	kwokVersion       = "v0.8.0"
	helmVersion       = "v3.22.0"
)

// Component names, used for binaries, log files and errors.
const (
	etcdName              = "etcd"
	apiServerName         = "kube-apiserver"
	controllerManagerName = "kube-controller-manager"
	schedulerName         = "kube-scheduler"
	kwokName              = "kwok"
	kubectlName           = "kubectl"
	helmName              = "helm"
)

// binaries lists every file build.sh makes except the kwok stages, by component name.
var binaries = []string{etcdName, apiServerName, controllerManagerName, schedulerName, kubectlName, kwokName, helmName}

// binaryFile is the name build.sh gives the binary of component: the name and its version.
func binaryFile(component string) string {
	version := kubernetesVersion
	switch component {
	case etcdName:
		version = etcdVersion
	case kwokName:
		version = kwokVersion
	case helmName:
		version = helmVersion
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

// HelmPath is the helm in BinDir, for tests that install deploy/helm's chart as a user would.
func HelmPath() string {
	return filepath.Join(BinDir(), binaryFile(helmName))
}

// CheckBinaries says which files test/tools/build.sh makes are missing from BinDir, and how to
// build them (make tools: about 18 minutes on two cores the first time).
func CheckBinaries() error {
	if missing := missingBinaries(BinDir()); len(missing) != 0 {
		return fmt.Errorf("cluster binaries %v missing from %s: run make tools", missing, BinDir())
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

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
