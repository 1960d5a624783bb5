# tool.mk - the operator's command-line tool (tools/): mhd-otel check, view, version.
#   make build/mhd-otel   the tool, linked with the library's static archive
# Its unit test t/unit/test_view.c is linked with the tool's objects but main.

TOOL_SRC := $(sort $(wildcard tools/*.c))
TOOL_OBJ := $(TOOL_SRC:%.c=$(BUILD)/obj/%.o)
TOOL_PART_OBJ := $(filter-out $(BUILD)/obj/tools/main.o,$(TOOL_OBJ))

$(BUILD)/mhd-otel: $(TOOL_OBJ) $(BUILD)/libmhd-otel.a
	$(ECHO) LD $@
	$(Q)$(CC) -o $@ $(TOOL_OBJ) $(BUILD)/libmhd-otel.a $(LDFLAGS_ALL) $(LIBS_ALL)

$(BUILD)/t/test_view: $(BUILD)/obj/t/unit/test_view.o $(TOOL_PART_OBJ) $(T_HELPER_OBJ) \
	$(BUILD)/libmhd-otel.a
	@mkdir -p $(dir $@)
	$(ECHO) LD $@
	$(Q)$(CC) -o $@ $< $(TOOL_PART_OBJ) $(T_HELPER_OBJ) $(BUILD)/libmhd-otel.a $(LDFLAGS_ALL) \
	    $(TEST_LIBS) $(LIBS_ALL)
