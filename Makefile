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
LDLIBS    = -lyajl -lm
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

.PHONY: all deps run test unit integration conformance sanitize cmdfuzz cmdfuzz-run fuzz bench lint clean

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
	@bash scripts/lint.sh

clean:
	rm -rf build/obj build/san build/fuzz build/*.so build/*.a build/*_tests
