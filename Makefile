# meshpilot: the commands CI and people run.
GO ?= go
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c

.PHONY: all build test vet fmt-check race conformance demo bench fuzz testenv chart image

all: build

build:
	$(GO) build -o bin/meshpilot ./cmd/meshpilot

## test: everything CI runs — formatting, vet, unit and integration tests,
## the Istio conformance score, and the race detector on concurrent packages.
test: fmt-check vet testenv
	$(GO) test ./...
	$(MAKE) race
	$(MAKE) conformance

vet:
	$(GO) vet ./...

## testenv: build kube-apiserver, kubectl, etcd and helm from the Go module proxy into .cache/
## (about 7 minutes the first time, cached after), and install Debian's prometheus and promtool
## when they are missing; tests start them on loopback.
testenv:
	./hack/testenv build
	./hack/helm build
	./hack/prometheus install

## chart: lint, render, RBAC/analysis checks and server dry-run of deploy/helm/meshpilot
chart:
	$(GO) test -count=1 -v ./deploy/helm/

## image: the container image (needs Docker)
IMAGE ?= ghcr.io/meshpilot/meshpilot
VERSION ?= dev
image:
	docker build --build-arg VERSION=$(VERSION) -t $(IMAGE):$(VERSION) .

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

race:
	$(GO) test -race ./analysis/... ./source/... ./mesh/... ./crd/... ./analyzers/ ./cmd/...

## conformance: score on Istio's own analyzer test table (../shared/conformance/istio-analyzers);
## prints "conformance: N passed, M failed" and fails below 100.
conformance:
	$(GO) test -count=1 -run 'TestConformanceCLI' -v ./cmd/meshpilot/
	$(GO) test -count=1 -run 'TestIstioConformance' -v ./analyzers/

demo:
	$(GO) run ./cmd/meshpilot demo

## bench: full analysis of 10,000 and 40,000 synthetic services (wall, peak RSS, defects found).
bench: build
	./bin/meshpilot bench --services 10000 --scale 4 --runs 3
	$(GO) test -run XXX -bench . -benchtime 5x ./source/files/ ./analyzers/
	$(GO) test -run XXX -bench 'ApplyVirtualService10k|FullReanalysis10k' -benchtime 20x ./analysis/incremental/

## fuzz: each fuzz target for FUZZTIME (default 5m).
FUZZTIME ?= 5m
fuzz:
	$(GO) test ./source/files/ -run XXX -fuzz 'FuzzLoad$$' -fuzztime $(FUZZTIME)
	$(GO) test ./source/files/ -run XXX -fuzz 'FuzzSplitDocuments$$' -fuzztime $(FUZZTIME)
