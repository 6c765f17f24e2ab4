// Package image tests the container image `make image` builds: that the podman or buildah build
// from bin/coredns has the layout of the Dockerfile's final stage (files, user, entrypoint,
// ports, the binary's file capability), and that the image runs as deploy/ runs it (uid 65532,
// read-only root, every capability dropped but NET_BIND_SERVICE, the standalone overlay's
// Corefile) and answers the seed's pods, once with a kubeconfig and once in-cluster style with a
// ServiceAccount token, against a test cluster in a network namespace the test makes.
//
// It needs root, podman and runc; `make image-test` installs them and runs it.
package image
