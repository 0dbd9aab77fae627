# The C behind the ports, for both XS hosts: xsrun (hosts/xs/Makefile) and the Cortex-M image
# (hosts/cortex-m/Makefile). Included after hosts/xs/engine.mk, from the project root.
#   NATIVE_SRC: portable C of ours (native/), built with the including host's flags.
#   The XS bindings (hosts/xs/xr_*.c) join the platform layer both hosts already compile.

NATIVE_SRC := native/aes_gcm.c
NATIVE_INCLUDES := -Inative
PLATFORM_SRC += xr_natives.c xr_buffers.c xr_crypto.c
ENGINE_INCLUDES += $(NATIVE_INCLUDES)
