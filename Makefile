# Build and test shortcuts. `make test` runs scripts/test, which needs root on
# a disposable Debian 12 machine (see its header).

GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo unknown)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS := -X github.com/prometheus/common/version.Version=$(VERSION) \
	-X github.com/prometheus/common/version.Revision=$(REVISION)

.PHONY: build test demo

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o postfix_queue_exporter .

test:
	scripts/test

demo:
	scripts/demo
