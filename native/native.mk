# The C behind the ports, for both XS hosts: xsrun (hosts/xs/Makefile) and the Cortex-M image
# (hosts/cortex-m/Makefile). Included after hosts/xs/engine.mk, from the project root.
#   NATIVE_SRC: portable C of ours (native/, native/dsp/), built with the including host's flags.
#   OPUS_SRC: libopus 1.3.1 as @discordjs/opus ships it (deps/opus; BSD-3-Clause), compiled from node_modules
#     with its own source lists; fixed point on both hosts, so xsrun and the M7 decode bit for bit alike.
#     Scratch arrays on the C stack (VAR_ARRAYS); no float API, no SIMD or assembly: portable C.
#   The XS bindings (hosts/xs/xr_*.c) join the platform layer both hosts already compile.

NATIVE_SRC := native/aes_gcm.c native/aes_gcm_check.c native/ais_opus.c native/dsp_check.c native/dsp/aec.c native/dsp/delay.c native/dsp/fft.c native/dsp/kws.c native/dsp/suppress.c
# Per-frame code at -O2 on both hosts (after the host's own -Os, so it wins): instructions matter more than flash.
# No fused multiply-add (the M7's VFMA; x86 with FMA): each float operation rounds on its own, as in the
# WebAssembly build (hosts/node/dsp.ts passes the same flag), so the DSP's output is bit for bit the same on
# Node, xsrun and the M7 (test/native/dsp.test.ts).
NATIVE_OPT := -O2 -ffp-contract=off
PLATFORM_SRC += xr_natives.c xr_buffers.c xr_crypto.c xr_opus.c xr_dsp.c

OPUS := node_modules/@discordjs/opus/deps/opus
ifeq ($(wildcard $(OPUS)/opus_sources.mk),)
$(error no libopus sources under $(OPUS): run npm install (the @discordjs/opus dependency ships them))
endif
include $(OPUS)/celt_sources.mk
include $(OPUS)/silk_sources.mk
include $(OPUS)/opus_sources.mk
OPUS_SRC := $(addprefix $(OPUS)/,$(CELT_SOURCES) $(SILK_SOURCES) $(SILK_SOURCES_FIXED) $(OPUS_SOURCES))
OPUS_DEFINES := -DOPUS_BUILD -DFIXED_POINT=1 -DDISABLE_FLOAT_API -DVAR_ARRAYS -DHAVE_LRINT -DHAVE_LRINTF
OPUS_INCLUDES := -I$(OPUS)/include -I$(OPUS)/celt -I$(OPUS)/silk -I$(OPUS)/silk/fixed
ENGINE_INCLUDES += -Inative -Inative/dsp -I$(OPUS)/include
# libopus at -O2 on both hosts: per-frame instructions matter more than its flash (docs/firmware.md).
OPUS_CFLAGS := -O2 -fno-common -w $(OPUS_DEFINES) $(OPUS_INCLUDES)
