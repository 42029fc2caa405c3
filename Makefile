# Builds, tests and release checks. Every build is stamped with the version,
# revision, branch, user and date through github.com/prometheus/common/version,
# the way the Dockerfile and .goreleaser.yaml stamp theirs.

GO     ?= go
DOCKER ?= docker
IMAGE  ?= alertbridge
# The goreleaser version `make release-check` runs through the Go module proxy.
GORELEASER_VERSION ?= v2.15.1

VERSION    ?= $(shell git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null | sed 's/^v//')
ifeq ($(strip $(VERSION)),)
VERSION    := 0.0.0-dev
endif
REVISION   ?= $(shell git rev-parse HEAD 2>/dev/null)
BRANCH     ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null)
BUILD_USER ?= $(shell id -un 2>/dev/null)@$(shell hostname 2>/dev/null)
BUILD_DATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)

VERSION_PKG := github.com/prometheus/common/version
LDFLAGS := -s -w \
	-X $(VERSION_PKG).Version=$(VERSION) \
	-X $(VERSION_PKG).Revision=$(REVISION) \
	-X $(VERSION_PKG).Branch=$(BRANCH) \
	-X $(VERSION_PKG).BuildUser=$(BUILD_USER) \
	-X $(VERSION_PKG).BuildDate=$(BUILD_DATE)

.PHONY: all build test test-short vet fmt lint docker release-check ci clean

all: lint test build

## build: a static binary ./alertbridge, as the image and the releases build it
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o alertbridge .

## test: every test, the real Alertmanager end-to-end tests included
test:
	$(GO) test ./...

## test-short: the tests that need neither Alertmanager nor a built binary
test-short:
	$(GO) test -short ./...

vet:
	$(GO) vet ./...

fmt:
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi

## lint: go vet and the gofmt check
lint: vet fmt

## docker: the image, stamped with this checkout's version and revision
docker:
	$(DOCKER) build \
		--build-arg VERSION=$(VERSION) \
		--build-arg REVISION=$(REVISION) \
		--build-arg BRANCH=$(BRANCH) \
		--build-arg BUILD_DATE=$(BUILD_DATE) \
		-t $(IMAGE):$(VERSION) -t $(IMAGE):latest .

## release-check: validate .goreleaser.yaml with goreleaser itself, then build
## a snapshot of every archive (nothing is published)
release-check:
	$(GO) test -run 'TestGoReleaser' .
	$(GO) run github.com/goreleaser/goreleaser/v2@$(GORELEASER_VERSION) check
	$(GO) run github.com/goreleaser/goreleaser/v2@$(GORELEASER_VERSION) build --snapshot --clean

## ci: what CI runs
ci:
	bash .ci/run

clean:
	rm -rf alertbridge dist/
