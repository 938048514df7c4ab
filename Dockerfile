# syntax=docker/dockerfile:1
# meshpilot's container image: a static binary on distroless, running as the
# non-root user 65532 (the Helm chart in deploy/helm/meshpilot runs it so).
#
#   docker build --build-arg VERSION=0.1.0 -t ghcr.io/meshpilot/meshpilot:0.1.0 .
#   docker buildx build --platform linux/amd64,linux/arm64 ...   (cross-compiles; no emulation)

# go.mod asks for Go 1.26.8 or later; the 1.26 tag follows the latest patch release.
ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
WORKDIR /src
# Dependencies first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# Static (no cgo: distroless/static has no libc), reproducible paths, version stamped.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/meshpilot ./cmd/meshpilot

# CA certificates and /etc/passwd with nonroot (65532), nothing else: no shell,
# no package manager. Pin by digest in release builds.
FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
LABEL org.opencontainers.image.title="meshpilot" \
      org.opencontainers.image.description="Istio mesh analyzer" \
      org.opencontainers.image.source="https://github.com/meshpilot/meshpilot" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /out/meshpilot /usr/local/bin/meshpilot
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/meshpilot"]
