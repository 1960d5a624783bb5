# install.mk - make install / make uninstall, and the pkg-config file.
#   PREFIX (/usr/local), DESTDIR (staging root), LIBDIR, INCLUDEDIR, BINDIR,
#   MANDIR, DOCDIR as the GNU conventions name them.
# Installs the shared library with its SONAME links, the static library,
# the public headers (include/mhd-otel/), mhd-otel.pc, and, when they are
# there, the mhd-otel tool, the man pages (man/) and the example configs.

PREFIX ?= /usr/local
EXEC_PREFIX ?= $(PREFIX)
LIBDIR ?= $(EXEC_PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR ?= $(EXEC_PREFIX)/bin
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
DOCDIR ?= $(DATADIR)/doc/mhd-otel
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
INSTALL ?= install

PUBLIC_HEADERS := $(sort $(wildcard include/mhd-otel/*.h))
# What a program that includes the headers needs (they include
# <microhttpd.h>; a server calls MHD itself), and what only the static
# library does. libmicrohttpd and libcurl are named by their flags, not in
# Requires: pkg-config --static would add their own private libraries
# (GnuTLS, LDAP, zstd, ...), whose -dev packages their shared libraries do
# not need.
PC_CFLAGS := $(shell pkg-config --cflags libmicrohttpd 2>/dev/null)
PC_LIBS := $(shell pkg-config --libs libmicrohttpd 2>/dev/null)
PC_REQUIRES_PRIVATE := libcjson libnghttp2 libprotobuf-c zlib openssl
PC_LIBS_PRIVATE := $(shell pkg-config --libs libcurl 2>/dev/null) -pthread -ldl -lm

.PHONY: install uninstall pc

$(BUILD)/mhd-otel.pc: mk/mhd-otel.pc.in include/mhd-otel/otel.h mk/install.mk
	@mkdir -p $(dir $@)
	$(ECHO) GEN $@
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
	    -e 's|@CFLAGS@|$(PC_CFLAGS)|g' -e 's|@LIBS@|$(PC_LIBS)|g' \
	    -e 's|@REQUIRES_PRIVATE@|$(PC_REQUIRES_PRIVATE)|g' \
	    -e 's|@LIBS_PRIVATE@|$(PC_LIBS_PRIVATE)|g' \
	    mk/mhd-otel.pc.in >$@

# The .pc holds PREFIX: made again at every install.
pc:
	@rm -f $(BUILD)/mhd-otel.pc
	@$(MAKE) -s --no-print-directory $(BUILD)/mhd-otel.pc

install: $(BUILD)/libmhd-otel.so.$(VERSION) $(BUILD)/libmhd-otel.a pc
	$(INSTALL) -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR)/mhd-otel $(DESTDIR)$(PKGCONFIGDIR)
	$(INSTALL) -m 644 $(BUILD)/libmhd-otel.so.$(VERSION) $(DESTDIR)$(LIBDIR)/
	ln -sf libmhd-otel.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libmhd-otel.so
	$(INSTALL) -m 644 $(BUILD)/libmhd-otel.a $(DESTDIR)$(LIBDIR)/
	$(INSTALL) -m 644 $(PUBLIC_HEADERS) $(DESTDIR)$(INCLUDEDIR)/mhd-otel/
	$(INSTALL) -m 644 $(BUILD)/mhd-otel.pc $(DESTDIR)$(PKGCONFIGDIR)/
	if [ -x $(BUILD)/mhd-otel ]; then \
	    $(INSTALL) -d $(DESTDIR)$(BINDIR) && \
	    $(INSTALL) -m 755 $(BUILD)/mhd-otel $(DESTDIR)$(BINDIR)/; fi
	for m in $(wildcard man/*.[1-8]); do \
	    s=$${m##*.}; $(INSTALL) -d $(DESTDIR)$(MANDIR)/man$$s && \
	    $(INSTALL) -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s/ || exit 1; done
	$(INSTALL) -d $(DESTDIR)$(DOCDIR)/examples
	$(INSTALL) -m 644 README.md $(wildcard LICENSE NEWS) $(DESTDIR)$(DOCDIR)/
	$(INSTALL) -m 644 config/*.conf $(DESTDIR)$(DOCDIR)/examples/

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libmhd-otel.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME) \
	    $(DESTDIR)$(LIBDIR)/libmhd-otel.so $(DESTDIR)$(LIBDIR)/libmhd-otel.a \
	    $(DESTDIR)$(PKGCONFIGDIR)/mhd-otel.pc $(DESTDIR)$(BINDIR)/mhd-otel
	rm -f $(addprefix $(DESTDIR)$(INCLUDEDIR)/mhd-otel/,$(notdir $(PUBLIC_HEADERS)))
	-rmdir $(DESTDIR)$(INCLUDEDIR)/mhd-otel 2>/dev/null
	for m in $(wildcard man/*.[1-8]); do \
	    rm -f $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m##*/}; done
	rm -rf $(DESTDIR)$(DOCDIR)
