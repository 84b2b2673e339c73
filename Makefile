# atomicdoc - build, run, test.  `make run` and `make test` are the two entry
# points (README.md); everything else is a step of theirs or a developer tool.

CC       ?= cc
PORT     ?= 6379
BUILD    ?= build
OPT      ?= -O2
SAN      ?=
WARN      = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wwrite-strings
CFLAGS   ?= $(OPT) -g
ALLFLAGS  = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SAN) -fPIC -fvisibility=hidden \
            -isystem build/include -Imodule -Imodule/doc
LDLIBS    = -lm
# Tests build paths and messages with snprintf into fixed buffers on purpose;
# gcc's truncation guesses at -O1 (make sanitize) are not bugs there.
TESTFLAGS = -Wno-format-truncation

CORE_SRC  = $(sort $(wildcard module/doc/*.c))
GLUE_SRC  = $(sort $(wildcard module/*.c))
UNIT_SRC  = $(sort $(wildcard tests/unit/*.c))
INTEG_SRC = $(sort $(wildcard tests/integration/*.c))

CORE_OBJ  = $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
GLUE_OBJ  = $(GLUE_SRC:%.c=$(BUILD)/obj/%.o)
HEADER    = build/include/redismodule.h
MODULE    = $(BUILD)/atomicdoc.so

.PHONY: all deps node-deps run test unit integration conformance sanitize fuzz bench lint clean \
        clients-test readme-test examples

all: $(MODULE)

deps: $(HEADER)
$(HEADER):
	@bash scripts/deps.sh

$(BUILD)/obj/%.o: %.c $(wildcard module/doc/*.h module/*.h tests/integration/*.h) | $(HEADER)
	@mkdir -p $(dir $@)
	$(CC) $(ALLFLAGS) $(if $(filter tests/%,$<),$(TESTFLAGS)) -c $< -o $@

$(BUILD)/libdoc.a: $(CORE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(MODULE): $(GLUE_OBJ) $(BUILD)/libdoc.a
	$(CC) $(SAN) -shared -Wl,-z,defs -o $@ $(GLUE_OBJ) $(BUILD)/libdoc.a $(LDLIBS)

$(BUILD)/unit_tests: $(UNIT_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/libdoc.a
	$(CC) $(SAN) -o $@ $^ -lcriterion $(LDLIBS)

$(BUILD)/integration_tests: $(INTEG_SRC:%.c=$(BUILD)/obj/%.o)
	$(CC) $(SAN) -o $@ $^ -lcriterion -lhiredis -lpthread $(LDLIBS)

run: deps $(MODULE)
	@bash scripts/deps.sh >/dev/null
	redis-server redis.conf.example --port $(PORT) --loadmodule $(abspath $(MODULE))

# The test runner prints one summary line at the end; see scripts/test.sh.
test: deps
	@bash scripts/test.sh

# Under `make sanitize`, LeakSanitizer ignores leaks inside Criterion itself.
SANENV = $(if $(SANITIZED),LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp))

unit: $(BUILD)/unit_tests
	$(SANENV) $(BUILD)/unit_tests --jobs 2

# Under `make sanitize` the module is ASan-built, so the (uninstrumented)
# redis-server needs the ASan runtime preloaded; the harness passes it on.
integration: $(MODULE) $(BUILD)/integration_tests
	$(SANENV) ATOMICDOC_MODULE=$(abspath $(MODULE)) \
	  $(if $(SANITIZED),ATOMICDOC_PRELOAD=$$($(CC) -print-file-name=libasan.so)) \
	  $(BUILD)/integration_tests --jobs 2

# The clients (README "Clients"): the Node.js package's tests (npm ci installs its
# dependencies from package-lock.json), the hiredis examples and the shell examples,
# each against redis-servers it starts and stops itself.
clients-test: $(MODULE) node-deps
	cd clients/node && npm ci --no-audit --no-fund && ATOMICDOC_MODULE=$(abspath $(MODULE)) npm test
	@$(MAKE) --no-print-directory examples
	ATOMICDOC_MODULE=$(abspath $(MODULE)) bash scripts/examples/run_all.sh

# README.md is a contract: every redis-cli session in it runs on a fresh server and
# must reply exactly as written (scripts/readme_examples.py).
readme-test: $(MODULE)
	ATOMICDOC_MODULE=$(abspath $(MODULE)) /usr/bin/python3 scripts/readme_examples.py README.md

examples: $(MODULE)
	@$(MAKE) --no-print-directory -C examples/c BUILD=$(abspath $(BUILD))/examples-c run

# Node.js and npm from Debian when the machine has none (any Node >= 18 will do).
SUDO = $(if $(filter 0,$(shell id -u)),,sudo)
node-deps:
	@if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then \
	  echo "deps: installing nodejs npm"; \
	  $(SUDO) apt-get update -qq >/dev/null && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null; \
	fi

sanitize: deps
	@$(MAKE) --no-print-directory BUILD=build/san OPT=-O1 \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	  SANITIZED=1 unit integration

fuzz: deps
	@bash scripts/fuzz.sh $(FUZZ_SECONDS)

bench: deps $(MODULE)
	@bash scripts/bench/run.sh

lint: deps $(MODULE)
	@BUILD=$(BUILD) bash scripts/lint.sh

clean:
	rm -rf build/obj build/san build/fuzz build/*.so build/*.a build/*_tests
