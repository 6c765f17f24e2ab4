# The podname CoreDNS build as an image, the way CoreDNS's own release image is made: the static
# binary, given cap_net_bind_service so it binds :53 without root, with the CA certificates and
# nothing else, run as the numeric user 65532. Build with `make image`: with docker it builds
# this file; without docker, podman or buildah put bin/coredns from `make build` into the same
# layout as the final stage here, with no registry (test/image compares the two).

ARG GO_IMAGE=golang:1.26
ARG DEBIAN_IMAGE=debian:bookworm-slim

FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS build
WORKDIR /src
# Modules first, so a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY cmd/ cmd/
COPY plugin/ plugin/
# VERSION comes from the Makefile (git describe); the build context has no .git.
ARG VERSION=dev
ARG TARGETOS
ARG TARGETARCH
# The flags of `make build`.
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -mod=readonly -trimpath \
        -ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=podname-${VERSION}" \
        -o /coredns ./cmd/coredns

# CA certificates, for the TLS upstreams CoreDNS's plugins may reach (the API server's CA comes
# with the ServiceAccount), and setcap for the binary.
FROM --platform=$BUILDPLATFORM ${DEBIAN_IMAGE} AS caps
RUN apt-get -qq update \
    && DEBIAN_FRONTEND=noninteractive apt-get -yqq install --no-install-recommends ca-certificates libcap2-bin \
    && apt-get clean
COPY --from=build /coredns /coredns
RUN setcap cap_net_bind_service=+ep /coredns

FROM scratch
COPY --from=caps /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=caps /coredns /coredns
# Numeric, so that runAsNonRoot can verify it without a runAsUser (the manifests set both).
USER 65532:65532
EXPOSE 53 53/udp
ENTRYPOINT ["/coredns"]
