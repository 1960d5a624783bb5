# fuzz.mk - libFuzzer targets of the parsers of untrusted input (t/fuzz/).
#   make fuzz         build every target, run each FUZZ_SECONDS (default 60)
#   make fuzz-smoke   the same, a few seconds each (part of make test)
#   make fuzz-build   only build them, in build-fuzz/fuzz/
#   make fuzz-clean   remove build-fuzz/
# The library is compiled again into build-fuzz/obj by this Makefile's own
# rules (BUILD=build-fuzz, CC=clang), instrumented for the fuzzer
# (-fsanitize=fuzzer-no-link) and under ASan+UBSan; the targets are linked
# with -fsanitize=fuzzer. Each run works on a copy of the target's seed
# corpus under build-fuzz/work/: the committed corpus never grows.

FUZZ_BUILD := build-fuzz
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 3
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_SRC := $(sort $(wildcard t/fuzz/fuzz_*.c))
FUZZ_NAMES := $(FUZZ_SRC:t/fuzz/fuzz_%.c=%)
FUZZ_BIN := $(FUZZ_SRC:t/fuzz/%.c=$(FUZZ_BUILD)/fuzz/%)

# The variables of one fuzz build (passed down to make -C . BUILD=build-fuzz).
FUZZ_MAKE = $(MAKE) -s --no-print-directory BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) OPT=-O1 WERROR=$(WERROR) \
	SAN_FLAGS="-fsanitize=fuzzer-no-link $(FUZZ_SAN)"

.PHONY: fuzz fuzz-smoke fuzz-build fuzz-bins fuzz-clean

# A fuzz binary: its object and the library's static archive (which leaves
# out the LD_PRELOAD interposers), built with the flags above.
$(FUZZ_BUILD)/fuzz/fuzz_%: $(FUZZ_BUILD)/obj/t/fuzz/fuzz_%.o $(FUZZ_BUILD)/libmhd-otel.a
	@mkdir -p $(dir $@)
	$(ECHO) LD $@
	$(Q)$(CC) -o $@ $< $(FUZZ_BUILD)/libmhd-otel.a -fsanitize=fuzzer $(FUZZ_SAN) -pthread \
	    $(LDFLAGS) $(LIBS_ALL)

# Only meaningful with BUILD=build-fuzz (FUZZ_MAKE runs it so).
fuzz-bins: $(FUZZ_BIN)

fuzz-build:
	@sh mk/deps.sh test
	@+$(FUZZ_MAKE) fuzz-bins

fuzz: fuzz-build
	@sh t/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_NAMES)

fuzz-smoke: fuzz-build
	@sh t/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SMOKE_SECONDS) $(FUZZ_NAMES)

fuzz-clean:
	rm -rf $(FUZZ_BUILD)
