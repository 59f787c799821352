# phonehome: the README's two commands are `make sample` and `make test`.
# Both install what they need on a fresh Debian machine (apt-get, as root or
# with sudo) and use the Go toolchain on PATH or in /usr/local/go.

SHELL   := /bin/bash
export PATH := $(PATH):/usr/local/go/bin
GO      ?= go
SAMPLE  ?= testdata/sample/idle-1909.pcapng
FUZZTIME ?= 60s
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all build sample test deps vet generate fixtures fuzz clean

all: build

# deps installs the system packages the tests and the benchmark need, in one
# apt-get, and checks that Go is there:
#   strace, util-linux (unshare, taskset, setpriv)  the root-only tests that
#       phonehome makes no network system call and works in a network
#       namespace of its own (cmd/phonehome/passive_test.go), and capture
#       run as an unprivileged user
#   bsdutils (script)                      capture's status line on a terminal
#   libpcap-dev                            live capture links libpcap (cgo)
#   iproute2 (ip, ss), tcpreplay, tcpdump, curl, dnsutils (dig), openssl
#       the root tests in network namespaces joined by a veth
#       (internal/netns): replays, real clients and servers, the reference
#       capture; and the live benchmark (cmd/mkcapture/bench.sh)
#   procps (sysctl, ps)                     the namespaces' set-up; the live benchmark
#   wireshark-common (editcap)              merge's tests cut the sample into pieces
#       (classify/boundary_test.go; without it, the committed pieces are used)
#   chromium                                the HTML report opened in a headless browser
#       (cmd/phonehome/browser_test.go: its script runs, sorts and filters)
# The root tests fail a strict run as root when a program is missing.
DEPS_APT := strace util-linux bsdutils libpcap-dev iproute2 tcpreplay tcpdump curl dnsutils openssl procps wireshark-common chromium

deps:
	@command -v $(GO) >/dev/null || { echo "Go not found: install Go 1.21 or later (it fetches the toolchain go.mod asks for; https://go.dev/dl) or put it in /usr/local/go" >&2; exit 1; }
	@missing=""; for p in $(DEPS_APT); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing$$missing (for the root tests and the benchmark: see the Makefile's deps)"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

build: deps
	$(GO) build -buildvcs=auto -o bin/phonehome ./cmd/phonehome

# sample: the main job on the sample capture shipped in testdata/.
sample: build
	./bin/phonehome analyze $(SAMPLE)

# vet: go vet, gofmt, staticcheck and deadcode. The last two are fetched
# through the module proxy at pinned versions (go run caches the build).
# deadcode runs without -test, so a function only tests call is dead too:
# with -test, a tested parser that production never calls (the chunked-body
# twin) would pass. internal/testenv and internal/netns are for tests only,
# so they are left out, and so is capture's openPcapFile: the live path's
# entry for its tests without root, which cgo keeps out of a _test.go file.
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
DEADCODE    ?= golang.org/x/tools/cmd/deadcode@v0.53.0

vet: deps
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); if [ -n "$$out" ]; then echo "gofmt needed: $$out" >&2; exit 1; fi
	$(GO) run $(STATICCHECK) ./...
	@echo "$(GO) run $(DEADCODE) ./..."; out=$$($(GO) run $(DEADCODE) ./...) || exit 1; \
	out=$$(grep -Ev '^internal/(testenv|netns)/|^capture/pcap_cgo.go:[0-9:]+ unreachable func: openPcapFile$$' <<<"$$out"); \
	if [ -n "$$out" ]; then echo "$$out" >&2; echo "deadcode: no command calls these (tests do not count): remove them, or call them where they belong" >&2; exit 1; fi

# test: every test, with the seed corpora of the fuzz targets replayed. No
# -short: it would skip the flood test. .ci/run runs this strict (see
# internal/testenv).
test: deps vet
	$(GO) test -count=1 ./...

# generate: rebuild the embedded catalog from ../shared/catalog-sources.
generate:
	$(GO) generate ./catalog/...

# fixtures: rebuild the captures in testdata/ with real clients in a private
# network namespace (needs root; see testdata/README.md).
fixtures:
	$(SUDO) bash testdata/gen/make-fixtures.sh

# fuzz: every native fuzz target in turn, FUZZTIME each (default 60s), e.g.
# make fuzz FUZZTIME=10m. New crashers land in the package's
# testdata/fuzz/<target>/; commit them and add a named table case. The normal
# tests replay the seed corpora.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
		for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "== $$pkg $$target ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

clean:
	rm -rf bin

# bench: the Go benchmarks of every package, then phonehome against cat,
# tcpdump and tshark on a synthetic capture made by cmd/mkcapture (cached in
# .bench/). Settings and method: cmd/mkcapture/bench.sh.
BENCH_SIZE ?= 1GB
BENCH_RUNS ?= 5
.PHONY: bench
bench: deps
	BENCH_SIZE=$(BENCH_SIZE) BENCH_RUNS=$(BENCH_RUNS) GO=$(GO) bash cmd/mkcapture/bench.sh
