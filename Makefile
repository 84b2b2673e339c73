# atomicdoc - build, run, test.  `make run` and `make test` are the two entry
# points (README.md); everything else is a step of theirs or a developer tool.

CC       ?= cc
PORT     ?= 6379
BUILD    ?= build
OPT      ?= -O2
SAN      ?=
WARN      = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wwrite-strings
CFLAGS   ?= $(OPT) -g
# Link-time optimization for the module (not for sanitizer builds): inlining
# across files takes ~70 instructions off a DOC.INCR (README "Path operations").
# Fat objects, so libdoc.a still links into tests and tools without -flto.
LTO      ?= $(if $(SAN),,-flto=auto -ffat-lto-objects)
ALLFLAGS  = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SAN) $(LTO) -fPIC -fvisibility=hidden \
            -isystem build/include -Imodule -Imodule/doc
LDLIBS    = -lm -lpthread
# Tests build paths and messages with snprintf into fixed buffers on purpose;
# gcc's truncation guesses at -O1 (make sanitize) are not bugs there.
TESTFLAGS = -Wno-format-truncation

CORE_SRC  = $(sort $(wildcard module/doc/*.c))
GLUE_SRC  = $(sort $(wildcard module/*.c))
UNIT_SRC  = $(sort $(wildcard tests/unit/*.c))
# json_squatter.c is a module of its own (below), not a part of integration_tests.
INTEG_SRC = $(filter-out tests/integration/json_squatter.c,$(sort $(wildcard tests/integration/*.c)))

CORE_OBJ  = $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
GLUE_OBJ  = $(GLUE_SRC:%.c=$(BUILD)/obj/%.o)
HEADER    = build/include/redismodule.h
MODULE    = $(BUILD)/atomicdoc.so

.PHONY: all deps node-deps run test unit integration examples servers conformance sanitize \
        cmdfuzz cmdfuzz-run fuzz bench lint format clean clients-test readme-test c-examples

all: $(MODULE)

# deps.sh is quick when everything is there; it also replaces an older header.
deps:
	@bash scripts/deps.sh
$(HEADER):
	@bash scripts/deps.sh

$(BUILD)/obj/%.o: %.c $(wildcard module/doc/*.h module/*.h tests/integration/*.h) $(HEADER)
	@mkdir -p $(dir $@)
	$(CC) $(ALLFLAGS) $(if $(filter tests/%,$<),$(TESTFLAGS)) -c $< -o $@

$(BUILD)/libdoc.a: $(CORE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(MODULE): $(GLUE_OBJ) $(BUILD)/libdoc.a
	$(CC) $(SAN) $(LTO) $(CFLAGS) -shared -Wl,-z,defs -o $@ $(GLUE_OBJ) $(BUILD)/libdoc.a $(LDLIBS)

$(BUILD)/unit_tests: $(UNIT_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/libdoc.a
	$(CC) $(SAN) -o $@ $^ -lcriterion $(LDLIBS)

$(BUILD)/integration_tests: $(INTEG_SRC:%.c=$(BUILD)/obj/%.o)
	$(CC) $(SAN) -o $@ $^ -lcriterion -lhiredis -lpthread $(LDLIBS)

# A module that registers JSON.GET and JSON.SET only, loaded before atomicdoc by
# the integration suite (names taken: atomicdoc loads without JSON.*).
SQUATTER  = $(BUILD)/json_squatter.so
$(SQUATTER): $(BUILD)/obj/tests/integration/json_squatter.o
	$(CC) $(SAN) -shared -Wl,-z,defs -o $@ $^

# SERVER: redis7 (Debian's redis-server, default), redis8, valkey8.0, valkey8.1
# (scripts/servers.sh fetches or builds the others into build/servers/ once).
SERVER   ?= redis7
run: deps $(MODULE)
	@$(SERVER_BIN) set -x; \
	  exec "$$bin" redis.conf.example --port $(PORT) --loadmodule $(abspath $(MODULE))

# The test runner prints one summary line at the end; see scripts/test.sh.
# SERVERS: which servers the integration suite and the examples run on.
SERVERS  ?= redis7 redis8 valkey8.0 valkey8.1
test: deps
	@SERVERS="$(SERVERS)" bash scripts/test.sh

# Sets $$bin to the server binary of $(SERVER), fetched or built once
# (scripts/servers.sh); a recipe line starting with it stops when that fails.
SERVER_BIN = bin=$$(bash scripts/servers.sh path $(SERVER)) || exit 1;

# Under `make sanitize`, LeakSanitizer ignores leaks inside Criterion itself.
SANENV = $(if $(SANITIZED),LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp))

unit: $(BUILD)/unit_tests
	$(SANENV) $(BUILD)/unit_tests --jobs 2

# Under `make sanitize` the module is ASan-built, so the (uninstrumented)
# redis-server needs the ASan runtime preloaded; the harness passes it on.
integration: $(MODULE) $(BUILD)/integration_tests $(SQUATTER)
	@$(SERVER_BIN) set -x; \
	$(SANENV) ATOMICDOC_MODULE=$(abspath $(MODULE)) ATOMICDOC_SERVER=$$bin \
	  ATOMICDOC_SQUATTER=$(abspath $(SQUATTER)) \
	  $(if $(SANITIZED),ATOMICDOC_PRELOAD=$$($(CC) -print-file-name=libasan.so)) \
	  $(BUILD)/integration_tests --jobs 2

# The clients (README "Clients"): redis-py's r.json() and scripts/json_copy.py
# (tests/python), the Node.js package's tests (npm ci installs its dependencies from
# package-lock.json) and the hiredis examples, each against redis-servers they start
# and stop themselves.
clients-test: $(MODULE) node-deps
	ATOMICDOC_MODULE=$(abspath $(MODULE)) /usr/bin/python3 -W ignore::DeprecationWarning tests/python/test_json_clients.py
	cd clients/node && npm ci --no-audit --no-fund && ATOMICDOC_MODULE=$(abspath $(MODULE)) npm test
	@$(MAKE) --no-print-directory c-examples

# README.md is a contract: every redis-cli session in it runs on a fresh server and
# must reply exactly as written (scripts/readme_examples.py).
readme-test: $(MODULE)
	@$(SERVER_BIN) ATOMICDOC_SERVER=$$bin ATOMICDOC_MODULE=$(abspath $(MODULE)) \
	  /usr/bin/python3 scripts/readme_examples.py README.md

# The hiredis examples (examples/c/).
c-examples: $(MODULE)
	@$(MAKE) --no-print-directory -C examples/c BUILD=$(abspath $(BUILD))/examples-c run

# The module's example scripts (scripts/examples/: the race, then the atomic command)
# against one $(SERVER).
examples: $(MODULE)
	@$(SERVER_BIN) ATOMICDOC_SERVER=$$bin ATOMICDOC_MODULE=$(abspath $(MODULE)) \
	  bash scripts/examples/run_all.sh

# Fetches or builds the servers of SERVERS into build/servers/ (cached).
servers:
	@bash scripts/servers.sh $(SERVERS)

# Node.js and npm from Debian when the machine has none (any Node >= 18 will do).
SUDO = $(if $(filter 0,$(shell id -u)),,sudo)
node-deps:
	@if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then \
	  echo "deps: installing nodejs npm"; \
	  $(SUDO) apt-get update -qq >/dev/null && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null; \
	fi

SANFLAGS  = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

sanitize: deps
	@$(MAKE) --no-print-directory BUILD=build/san OPT=-O1 SAN="$(SANFLAGS)" \
	  SANITIZED=1 unit integration

# The command fuzzer (tests/fuzz/cmdfuzz.c): random, partly hostile DOC.* commands
# against a primary + replica running the ASan+UBSan module, checked all or nothing.
# CMDFUZZ_SECONDS long (default 120); SEED=n replays a run.
CMDFUZZ_SECONDS ?= 120

$(BUILD)/cmdfuzz: $(BUILD)/obj/tests/fuzz/cmdfuzz.o $(BUILD)/obj/tests/integration/harness.o
	$(CC) $(SAN) -o $@ $^ -lcriterion -lhiredis -lpthread

cmdfuzz: deps
	@$(MAKE) --no-print-directory BUILD=build/san OPT=-O1 SAN="$(SANFLAGS)" \
	  SANITIZED=1 cmdfuzz-run

cmdfuzz-run: $(MODULE) $(BUILD)/cmdfuzz
	$(SANENV) CMDFUZZ_SECONDS=$(CMDFUZZ_SECONDS) $(if $(SEED),SEED=$(SEED)) \
	  ATOMICDOC_MODULE=$(abspath $(MODULE)) \
	  $(if $(SANITIZED),ATOMICDOC_PRELOAD=$$($(CC) -print-file-name=libasan.so)) \
	  $(BUILD)/cmdfuzz --jobs 1

fuzz: deps
	@bash scripts/fuzz.sh $(FUZZ_SECONDS)

bench: deps $(MODULE)
	@bash scripts/bench/run.sh

lint: deps $(MODULE)
	@BUILD=$(BUILD) bash scripts/lint.sh

# One style (.clang-format, clang-format 14); lint.sh checks the same files.
# unicode_gc.c is generated (scripts/gen_unicode_categories.py): left as made.
format:
	clang-format -i $$(bash scripts/lint.sh --format-files)

clean:
	rm -rf build/obj build/san build/fuzz build/*.so build/*.a build/*_tests
