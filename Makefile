# Makefile - builds libmhd-otel (.so and .a), the demo server and the tests.
#   make            library and demo server in build/
#   make demo       run the demo server with the console exporter
#   make demo-services  service A calling service B: one trace over both
#   make test       every test, then again under ASan+UBSan and TSan
#   make bench      performance figures (not part of make test)
#   make install    library, headers, pkg-config file, tool, man pages, example
#                   configs under PREFIX (/usr/local), DESTDIR and LIBDIR honoured
#   make uninstall  removes what make install put there

BUILD ?= build
SAN ?=
CC ?= cc

PKGS := libmicrohttpd libcjson libnghttp2 libprotobuf-c zlib libcurl openssl
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
TEST_CFLAGS = $(shell pkg-config --cflags cmocka 2>/dev/null)
TEST_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null)

# The release, from the header that says it to programs.
VERSION := $(shell sed -n 's/^\#define MHD_OTEL_VERSION "\(.*\)"/\1/p' include/mhd-otel/otel.h)
SOMAJOR := $(firstword $(subst ., ,$(VERSION)))
SONAME := libmhd-otel.so.$(SOMAJOR)

OPT ?= -O2
# Warnings are errors in make test and CI (WERROR=1), not in a plain make.
WERROR ?= 0
ifeq ($(WERROR),1)
WERROR_FLAG := -Werror
endif
SAN_FLAGS :=
ifeq ($(SAN),asan)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT := -O1
endif
ifeq ($(SAN),tsan)
SAN_FLAGS := -fsanitize=thread
OPT := -O1
endif

CFLAGS_ALL = -std=c11 -D_GNU_SOURCE $(OPT) -g -Wall -Wextra $(WERROR_FLAG) -Wshadow -Iinclude \
	-Wstrict-prototypes -Wmissing-prototypes -fPIC -pthread -fvisibility=hidden \
	$(SAN_FLAGS) $(PKG_CFLAGS) $(CPPFLAGS) $(CFLAGS)
LDFLAGS_ALL = -pthread $(SAN_FLAGS) $(LDFLAGS)
LIBS_ALL = $(PKG_LIBS) -ldl -lm

# The OTLP schema: protoc-c generates C into $(BUILD)/gen at build time.
PROTO_SRC := $(sort $(shell find exporter/proto -name '*.proto' 2>/dev/null))
PROTO_C := $(PROTO_SRC:exporter/proto/%.proto=$(BUILD)/gen/%.pb-c.c)
PROTO_H := $(PROTO_C:.c=.h)
PROTO_OBJ := $(PROTO_C:$(BUILD)/%.c=$(BUILD)/obj/%.o)

LIB_SRC := $(sort $(wildcard core/*.c exporter/*.c module/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(PROTO_OBJ)
UNIT_SRC := $(sort $(wildcard t/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:t/unit/%.c=$(BUILD)/t/%)
ITEST_SRC := $(sort $(wildcard t/integration/test_*.c))
ITEST_BIN := $(ITEST_SRC:t/integration/%.c=$(BUILD)/t/%)
T_HELPER_SRC := $(sort $(wildcard t/lib/*.c))
T_HELPER_OBJ := $(T_HELPER_SRC:%.c=$(BUILD)/obj/%.o)

.PHONY: all deps demo demo-services test check bench clean format
.SECONDARY:
all: $(BUILD)/libmhd-otel.so $(BUILD)/libmhd-otel.a $(BUILD)/demo-server $(BUILD)/service-a \
	$(BUILD)/service-b $(BUILD)/mhd-otel

deps:
	@sh mk/deps.sh

V ?= 0
ifeq ($(V),0)
Q := @
ECHO = @printf '  %-6s %s\n'
else
Q :=
ECHO = @true
endif

$(BUILD)/gen/%.pb-c.c $(BUILD)/gen/%.pb-c.h: exporter/proto/%.proto
	@mkdir -p $(BUILD)/gen
	$(ECHO) PROTOC $<
	$(Q)protoc-c --proto_path=exporter/proto --c_out=$(BUILD)/gen $<

# Generated code: warnings of protoc-c's output are not ours to fix.
$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c | $(PROTO_H)
	@mkdir -p $(dir $@)
	$(ECHO) CC $@
	$(Q)$(CC) $(filter-out -Werror -Wmissing-prototypes,$(CFLAGS_ALL)) -I$(BUILD)/gen -MMD -MP -c $< -o $@

$(BUILD)/obj/%.o: %.c | $(PROTO_H)
	@mkdir -p $(dir $@)
	$(ECHO) CC $@
	$(Q)$(CC) $(CFLAGS_ALL) -I$(BUILD)/gen $(TEST_CFLAGS) -MMD -MP -c $< -o $@

# The LD_PRELOAD interposers live only in the shared library.
PRELOAD_OBJ := $(BUILD)/obj/module/preload.o $(BUILD)/obj/module/curl_preload.o

$(BUILD)/libmhd-otel.a: $(filter-out $(PRELOAD_OBJ),$(LIB_OBJ))
	@rm -f $@
	$(ECHO) AR $@
	$(Q)ar rcs $@ $^

# libmhd-otel.so.VERSION with its SONAME, and the two usual links to it.
$(BUILD)/libmhd-otel.so.$(VERSION): $(LIB_OBJ)
	$(ECHO) LD $@
	$(Q)$(CC) -shared -Wl,-soname,$(SONAME) -o $@ $^ $(LDFLAGS_ALL) $(LIBS_ALL)

$(BUILD)/$(SONAME): $(BUILD)/libmhd-otel.so.$(VERSION)
	$(Q)ln -sf libmhd-otel.so.$(VERSION) $@

$(BUILD)/libmhd-otel.so: $(BUILD)/$(SONAME)
	$(Q)ln -sf $(SONAME) $@

EXAMPLE_UTIL_OBJ := $(BUILD)/obj/examples/server_util.o

$(BUILD)/demo-server: $(BUILD)/obj/examples/demo_server.o $(EXAMPLE_UTIL_OBJ) $(BUILD)/libmhd-otel.a
	$(ECHO) LD $@
	$(Q)$(CC) -o $@ $< $(EXAMPLE_UTIL_OBJ) $(BUILD)/libmhd-otel.a $(LDFLAGS_ALL) $(LIBS_ALL)

# The two-service demo: service-a calls service-b through libcurl.
$(BUILD)/service-%: $(BUILD)/obj/examples/service_%.o $(EXAMPLE_UTIL_OBJ) $(BUILD)/libmhd-otel.a
	$(ECHO) LD $@
	$(Q)$(CC) -o $@ $< $(EXAMPLE_UTIL_OBJ) $(BUILD)/libmhd-otel.a $(LDFLAGS_ALL) $(LIBS_ALL)

$(BUILD)/t/%: $(BUILD)/obj/t/unit/%.o $(T_HELPER_OBJ) $(BUILD)/libmhd-otel.a
	@mkdir -p $(dir $@)
	$(ECHO) LD $@
	$(Q)$(CC) -o $@ $< $(T_HELPER_OBJ) $(BUILD)/libmhd-otel.a $(LDFLAGS_ALL) $(TEST_LIBS) $(LIBS_ALL)

$(BUILD)/t/test_it_%: $(BUILD)/obj/t/integration/test_it_%.o $(T_HELPER_OBJ) $(BUILD)/libmhd-otel.a
	@mkdir -p $(dir $@)
	$(ECHO) LD $@
	$(Q)$(CC) -o $@ $< $(T_HELPER_OBJ) $(BUILD)/libmhd-otel.a $(LDFLAGS_ALL) $(TEST_LIBS) $(LIBS_ALL)

# The harness of the propagation conformance test (t/conformance/README.md).
$(BUILD)/t/propagate: $(BUILD)/obj/t/conformance/propagate.o $(BUILD)/libmhd-otel.a
	@mkdir -p $(dir $@)
	$(ECHO) LD $@
	$(Q)$(CC) -o $@ $< $(BUILD)/libmhd-otel.a $(LDFLAGS_ALL) $(LIBS_ALL)

# make bench's demo server linked with libmhd-otel.so instead of the .a: the
# code an LD_PRELOAD or dynamically linked server runs.
$(BUILD)/bench/demo-server-shared: $(BUILD)/obj/examples/demo_server.o $(EXAMPLE_UTIL_OBJ) \
	$(BUILD)/libmhd-otel.so
	@mkdir -p $(dir $@)
	$(ECHO) LD $@
	$(Q)$(CC) -o $@ $< $(EXAMPLE_UTIL_OBJ) -L$(BUILD) -lmhd-otel -Wl,-rpath,$(abspath $(BUILD)) \
	    $(LDFLAGS_ALL) $(LIBS_ALL)

# make bench's receiver that decodes nothing: the tests' fake gRPC server.
$(BUILD)/bench/ack_sink: $(BUILD)/obj/t/bench/ack_sink.o $(BUILD)/obj/t/lib/fake_grpc.o \
		$(BUILD)/libmhd-otel.a
	@mkdir -p $(dir $@)
	$(ECHO) LD $@
	$(Q)$(CC) -o $@ $^ $(LDFLAGS_ALL) $(TEST_LIBS) $(LIBS_ALL)

$(BUILD)/bench/%: $(BUILD)/obj/t/bench/%.o $(BUILD)/libmhd-otel.a
	@mkdir -p $(dir $@)
	$(ECHO) LD $@
	$(Q)$(CC) -o $@ $< $(BUILD)/libmhd-otel.a $(LDFLAGS_ALL) $(LIBS_ALL)

# A server that knows nothing of mhd-otel, for the LD_PRELOAD tests: linked
# with libmicrohttpd only, and not instrumented (a sanitizer runtime comes
# first in LD_PRELOAD instead).
$(BUILD)/t/plain-server: t/preload/plain_server.c
	@mkdir -p $(dir $@)
	$(ECHO) LD $@
	$(Q)$(CC) -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra $(WERROR_FLAG) -pthread \
	    $(shell pkg-config --cflags libmicrohttpd 2>/dev/null) -o $@ $< \
	    $(shell pkg-config --libs libmicrohttpd 2>/dev/null)

# Tests of what only the shared library does, linked with it (not the .a).
SO_TEST_SRC := $(sort $(wildcard t/so/test_*.c))
SO_TEST_BIN := $(SO_TEST_SRC:t/so/%.c=$(BUILD)/t/so_%)

$(BUILD)/t/so_%: $(BUILD)/obj/t/so/%.o $(BUILD)/libmhd-otel.so
	@mkdir -p $(dir $@)
	$(ECHO) LD $@
	$(Q)$(CC) -o $@ $< -L$(BUILD) -lmhd-otel -Wl,-rpath,$(abspath $(BUILD)) $(LDFLAGS_ALL) \
	    $(TEST_LIBS) $(LIBS_ALL)

# The public headers compiled as C++ and their functions linked from C++.
CXX ?= g++
CXX_TEST_BIN := $(BUILD)/t/test_cxx_headers

$(CXX_TEST_BIN): t/cxx/test_cxx_headers.cpp $(BUILD)/libmhd-otel.a
	@mkdir -p $(dir $@)
	$(ECHO) CXX $@
	$(Q)$(CXX) -std=c++11 -D_GNU_SOURCE -Iinclude $(OPT) -g -Wall -Wextra $(WERROR_FLAG) -pthread $(SAN_FLAGS) \
	    $(PKG_CFLAGS) $(TEST_CFLAGS) -o $@ $< $(BUILD)/libmhd-otel.a $(LDFLAGS_ALL) $(TEST_LIBS) \
	    $(LIBS_ALL)

# Build and run every test binary of one build dir.
# A program that loads libmhd-otel.so with dlopen after it starts (for
# test_static_tls): linked with neither the library nor libmicrohttpd.
$(BUILD)/t/dlopen-main: t/so/dlopen_main.c
	@mkdir -p $(dir $@)
	$(ECHO) LD $@
	$(Q)$(CC) -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra $(WERROR_FLAG) -Iinclude -pthread \
	    $(SAN_FLAGS) -o $@ $< -ldl

check: all $(UNIT_BIN) $(ITEST_BIN) $(SO_TEST_BIN) $(CXX_TEST_BIN) $(BUILD)/t/plain-server \
	$(BUILD)/t/propagate $(BUILD)/t/dlopen-main
	@sh t/run.sh $(BUILD) $(UNIT_BIN) $(ITEST_BIN) $(SO_TEST_BIN) $(CXX_TEST_BIN)

demo: deps
	@$(MAKE) -s --no-print-directory all
	@sh examples/demo.sh $(BUILD)

demo-services: deps
	@$(MAKE) -s --no-print-directory all
	@sh examples/demo_services.sh $(BUILD)

test:
	@sh mk/deps.sh test
	@$(MAKE) --no-print-directory check BUILD=build WERROR=1
	@$(MAKE) --no-print-directory check BUILD=build-asan SAN=asan WERROR=1
	@$(MAKE) --no-print-directory check BUILD=build-tsan SAN=tsan WERROR=1
	@cat build/test-summary build-asan/test-summary build-tsan/test-summary | \
	    awk '{p += $$1; f += $$2; s += $$3} END {printf "tests: %d passed, %d failed, %d skipped\n", p, f, s; exit f != 0}'
	@$(MAKE) --no-print-directory fuzz-smoke WERROR=1

bench:
	@sh mk/deps.sh bench
	@$(MAKE) -s --no-print-directory all $(BUILD)/bench/span_cost $(BUILD)/bench/export_cost \
	    $(BUILD)/bench/encode_cost $(BUILD)/bench/metrics_cost $(BUILD)/bench/view_input \
	    $(BUILD)/bench/ack_sink $(BUILD)/bench/demo-server-shared
	@sh t/bench/run.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-tsan

include mk/install.mk

include mk/fuzz.mk
include mk/tool.mk

-include $(shell find $(BUILD)/obj -name "*.d" 2>/dev/null)
