# kom: plain Makefile.  make; make check; make check SAN=1; make install.
# The user's CFLAGS are kept; warnings and hardening are added on top.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
SHAREDIR ?= $(PREFIX)/share/kom
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
SYSTEMDDIR ?= $(PREFIX)/lib/systemd
UNITDIR ?= $(SYSTEMDDIR)/system
GENDIR ?= $(SYSTEMDDIR)/system-generators
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
DESTDIR ?=

CC ?= cc
CFLAGS ?= -O2 -g
PKG_CONFIG ?= pkg-config
PKGS = jansson libgit2 libcurl yaml-0.1 openssl

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

KOM_CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
	-Wno-unused-parameter -Wstrict-prototypes -Wmissing-prototypes \
	-fstack-protector-strong -fstack-clash-protection -Wformat \
	-Wformat-security -fPIE -Ilib $(PKG_CFLAGS)
KOM_LDFLAGS = -pie -Wl,-z,relro -Wl,-z,now
ifeq ($(SAN),1)
KOM_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
KOM_LDFLAGS += -fsanitize=address,undefined
OBJ = obj-san
LIBKOM = obj-san/libkom.a
else
KOM_CFLAGS += -D_FORTIFY_SOURCE=2
OBJ = obj
LIBKOM = lib/libkom.a
endif

ALL_CFLAGS = $(KOM_CFLAGS) $(CPPFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(KOM_LDFLAGS) $(LDFLAGS)

LIB_SRC := $(sort $(wildcard lib/*.c))
LIB_OBJ := $(LIB_SRC:lib/%.c=$(OBJ)/lib/%.o)
PROGS := $(sort $(notdir $(wildcard cmd/kom-*)))
BINS := $(PROGS:%=bin/%)
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
UNIT_BINS := $(UNIT_SRC:tests/unit/%.c=tests/unit/%.t)
MANS := $(sort $(wildcard man/*.[1-8]))

# Objects of the unsanitized and sanitized builds live apart, each with a
# stamp of its flags; the programs and test binaries are shared, so a stamp
# of the flavour last linked makes them relink when it changes.
FLAVOUR = $(OBJ) $(ALL_CFLAGS) $(ALL_LDFLAGS)

all: $(BINS) $(LIBKOM)

$(OBJ)/.cflags: FORCE
	@mkdir -p $(OBJ)
	@echo '$(FLAVOUR)' | cmp -s - $@ || echo '$(FLAVOUR)' >$@
.flavour: FORCE
	@echo '$(FLAVOUR)' | cmp -s - $@ || echo '$(FLAVOUR)' >$@

$(OBJ)/%.o: %.c $(OBJ)/.cflags
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(LIBKOM): $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $(LIB_OBJ)

define PROG_template
$(1)_SRC := $$(sort $$(wildcard cmd/$(1)/*.c))
$(1)_OBJ := $$($(1)_SRC:%.c=$$(OBJ)/%.o)
bin/$(1): $$($(1)_OBJ) $$(LIBKOM) .flavour
	@mkdir -p bin
	$$(CC) $$(ALL_CFLAGS) $$(ALL_LDFLAGS) -o $$@ $$($(1)_OBJ) $$(LIBKOM) $$(PKG_LIBS) -lm
endef
$(foreach p,$(PROGS),$(eval $(call PROG_template,$(p))))

tests/unit/%.t: $(OBJ)/tests/unit/%.o $(LIBKOM) .flavour
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIBKOM) $(PKG_LIBS) -lm

$(OBJ)/tests/unit/%.o: tests/unit/%.c tests/unit/tap.h $(OBJ)/.cflags
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit -MMD -MP -c -o $@ $<

# The whole suite: unit tests (C, TAP) and integration tests (sh, TAP).
# T=tests/0010-foo.t runs a subset.  PROVE_FLAGS=-v for detail.  The
# tests of the packages (make deb, and the .debs in a booted systemd)
# run the packages' programs, built by debian/rules, never this
# flavour's: SAN=1 leaves them to the plain run, which CI makes next.
PKG_TESTS := tests/0900-deb.t tests/0930-systemd-deb.t \
	tests/0940-systemd-loop.t tests/0945-systemd-schedule.t
ifeq ($(SAN),1)
T ?= $(UNIT_BINS) $(filter-out $(PKG_TESTS),$(sort $(wildcard tests/*.t)))
else
T ?= $(UNIT_BINS) $(sort $(wildcard tests/*.t))
endif
PROVE_FLAGS ?=
check: all $(UNIT_BINS)
	KOM_TOP=$(CURDIR) prove --exec '' $(PROVE_FLAGS) $(T)

lint-man:
	mandoc -Tlint -Wwarning $(MANS)

# The unit tests under valgrind's memcheck; any error or leak fails.
check-valgrind: $(UNIT_BINS)
	for t in $(UNIT_BINS); do \
		valgrind -q --leak-check=full --errors-for-leak-kinds=definite \
		    --child-silent-after-fork=yes \
		    --error-exitcode=99 ./$$t >/dev/null || exit 1; \
	done

# libFuzzer targets under ASan+UBSan: make fuzz; FUZZ_SECONDS=600 make
# fuzz-run.  make fuzz-smoke runs each for FUZZ_SMOKE_SECONDS from its
# committed seed corpus (tests/fuzz/corpus/NAME/), as CI does: a target
# that no longer builds, or crashes, leaks or hangs soon, fails it.
# FUZZ_JOBS targets run at a time.  The library is compiled once for all
# of them (obj-fuzz/).
FUZZ_SRC := $(sort $(wildcard tests/fuzz/*.c))
FUZZ_BINS := $(FUZZ_SRC:tests/fuzz/%.c=tests/fuzz/%)
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 600
FUZZ_SMOKE_SECONDS ?= 20
FUZZ_JOBS ?= 1
FUZZ_BASE = -std=c11 -D_GNU_SOURCE -g -O1 -Ilib $(PKG_CFLAGS) \
	-fno-sanitize-recover=undefined
FUZZ_FLAGS = $(FUZZ_BASE) -fsanitize=fuzzer,address,undefined
FUZZ_LIB_OBJ := $(LIB_SRC:lib/%.c=obj-fuzz/lib/%.o)
fuzz: $(FUZZ_BINS)
fuzz-run: $(FUZZ_BINS)
	FUZZ_JOBS=$(FUZZ_JOBS) sh tests/fuzz/run $(FUZZ_SECONDS) $(FUZZ_BINS)
fuzz-smoke: $(FUZZ_BINS)
	FUZZ_JOBS=$(FUZZ_JOBS) sh tests/fuzz/run $(FUZZ_SMOKE_SECONDS) \
		$(FUZZ_BINS)
obj-fuzz/lib/%.o: lib/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_BASE) -fsanitize=fuzzer-no-link,address,undefined \
		-MMD -MP -c -o $@ $<
obj-fuzz/libkom.a: $(FUZZ_LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $(FUZZ_LIB_OBJ)
tests/fuzz/%: tests/fuzz/%.c obj-fuzz/libkom.a
	$(FUZZ_CC) $(FUZZ_FLAGS) -MMD -MP -MF obj-fuzz/$*.d -o $@ $< \
		obj-fuzz/libkom.a $(PKG_LIBS) -lm

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 \
		$(DESTDIR)$(SHAREDIR)
	install -m 755 $(BINS) $(DESTDIR)$(BINDIR)
	for m in $(MANS); do \
		s=$${m##*.}; install -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s; \
	done
	for d in share/*; do \
		[ "$$d" = share/completion ] || cp -R "$$d" $(DESTDIR)$(SHAREDIR) || exit 1; \
	done
	$(MAKE) -s install-completion

# Bash completion: one script, installed under each program's name (what
# bash-completion loads on demand).
# The tables of flags and subcommands are made from the man pages; the
# script is the same for every build flavour, so it lives in obj/ even
# under SAN=1 (tests/0920 reads it there).
COMPLETION = obj/kom.bash
$(COMPLETION): share/completion/kom.bash.in share/completion/synopsis.awk \
		$(PROGS:%=man/%.1)
	@mkdir -p obj
	awk -f share/completion/synopsis.awk $(PROGS:%=man/%.1) >$@.forms
	sed -e '/^@FORMS@$$/{r $@.forms' -e 'd;}' -e 's/@PROGS@/$(PROGS)/' \
	    share/completion/kom.bash.in >$@.tmp
	rm -f $@.forms
	mv $@.tmp $@
completion: $(COMPLETION)
install-completion: $(COMPLETION)
	install -d $(DESTDIR)$(COMPLETIONDIR)
	for p in $(PROGS); do \
		install -m 644 $(COMPLETION) $(DESTDIR)$(COMPLETIONDIR)/$$p; \
	done

# systemd units, with ExecStart pointing into BINDIR (the files name
# /usr/bin, Debian's, so that they verify as they stand): those whose commands
# exist (contrib/systemd/units.sh), or only UNIT_PKG's; the kom user and
# directories (sysusers.d, tmpfiles.d) unless UNIT_PKG names a program.
UNIT_PKG ?=
install-units:
	for u in $$(sh contrib/systemd/units.sh $(if $(UNIT_PKG),-p $(UNIT_PKG))); do \
		install -d $(DESTDIR)$(UNITDIR) && \
		sed 's|/usr/bin/kom-|$(BINDIR)/kom-|g' contrib/systemd/$$u \
		    >$(DESTDIR)$(UNITDIR)/$$u && \
		chmod 644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done
	# the generator of the procedures' timers comes with their units
	if sh contrib/systemd/units.sh $(if $(UNIT_PKG),-p $(UNIT_PKG)) | \
	    grep -qx kom-procedures.service; then \
		install -d $(DESTDIR)$(GENDIR) && \
		sed 's|/usr/bin/kom-|$(BINDIR)/kom-|g' contrib/systemd/kom-procedure-generator \
		    >$(DESTDIR)$(GENDIR)/kom-procedure-generator && \
		chmod 755 $(DESTDIR)$(GENDIR)/kom-procedure-generator; \
	fi
	if [ -z '$(UNIT_PKG)' ] || [ '$(UNIT_PKG)' = kom-common ]; then \
		install -d $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) && \
		install -m 644 contrib/systemd/kom.sysusers \
		    $(DESTDIR)$(SYSUSERSDIR)/kom.conf && \
		install -m 644 contrib/systemd/kom.tmpfiles \
		    $(DESTDIR)$(TMPFILESDIR)/kom.conf; \
	fi

# Debian packages, built out of tree from a copy of the committed files
# (git ls-files) plus the work tree's changes, into DEBDIR.  Programs not
# yet in cmd/ are left out by debian/rules, which says so; DEB_ALL=1
# fails instead.
DEBDIR ?= deb
deb:
	sh debian/build-deb $(DEBDIR)

clean:
	rm -rf obj obj-san obj-fuzz bin $(LIBKOM) tests/unit/*.t $(FUZZ_BINS) \
		.flavour $(DEBDIR)

FORCE:
.PHONY: all check check-valgrind lint-man fuzz fuzz-run fuzz-smoke install \
	completion install-completion install-units deb clean FORCE

-include $(shell find obj obj-san obj-fuzz -name '*.d' 2>/dev/null)
