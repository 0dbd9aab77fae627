# The XS engine configuration shared by xsrun (hosts/xs/Makefile) and the Cortex-M image
# (hosts/cortex-m/Makefile), so bytecode made by one runs on the other. Included from the project root.
#
# The engine sources come from node_modules (@agoric/xsnap ships them; LGPL-3.0, never copied here).
# Bytecode depends on the engine version and these parser-relevant flags: a bundle must be made by a runner
# built with the same ones (xr_bundle.h checks the version, the ID size and the string mode).
#   mxRun: the interpreter; mxSloppy: non-strict scripts; mxMinusZero: -0 semantics;
#   mxBoundsCheck: JS stack overflow is a RangeError, not memory corruption;
#   mxInstrument: GC count, stack peak and parser peak for the memory figures.
# mxParse (the compiler) is the including build's choice: xsrun has it, the image does not.
# Left out: mxDebug (xsbug protocol), POSIX threads and GCC atomics, Unicode property escapes and
# String.prototype.normalize (+256 KB text), snapshots, metering, lockdown.
#   STRINGS=cesu8 (default): mxCESU8, strings are UTF-16 code units as ECMAScript (and Node) has them.
#   STRINGS=utf8: XS's own default on Moddable device builds: UTF-8 inside, length and indexes count code
#   points, so '\u{1F600}'.length is 1 (documentation/xs/XS Differences.md).

XS ?= node_modules/@agoric/xsnap/moddable/xs
STRINGS ?= cesu8
ifeq ($(STRINGS),utf8)
STRING_DEFINES :=
else ifeq ($(STRINGS),cesu8)
STRING_DEFINES := -DmxCESU8=1
else
$(error STRINGS must be cesu8 or utf8, not $(STRINGS))
endif
ENGINE_DEFINES := -DINCLUDE_XSPLATFORM '-DXSPLATFORM="xsrun_platform.h"' $(STRING_DEFINES) \
	-DmxRun=1 -DmxSloppy=1 -DmxMinusZero=1 -DmxBoundsCheck=1 -DmxInstrument=1
ENGINE_INCLUDES := -Ihosts/xs -I$(XS)/includes -I$(XS)/platforms -I$(XS)/sources
ENGINE_SRC := $(wildcard $(XS)/sources/*.c)
ifeq ($(ENGINE_SRC),)
$(error no XS sources under $(XS): run npm install (the @agoric/xsnap devDependency ships them))
endif

# The platform layer both builds compile (hosts/xs): engine hooks and bundle reader, host functions and
# run loop, counting allocator, command-line front end.
PLATFORM_SRC := xr_platform.c xr_host.c xr_alloc.c main.c
