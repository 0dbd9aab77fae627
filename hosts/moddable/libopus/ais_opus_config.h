// libopus's build settings for the Moddable SDK build, set here rather than in the manifest's build.C_FLAGS, which
// would replace ESP32's default flags (make.esp32.mk assigns them with ?=). The same settings as native/native.mk's
// OPUS_DEFINES for the XS hosts (test/moddable/natives.test.ts compares them): fixed point, no float API, scratch
// arrays on the C stack.
#ifndef AIS_OPUS_CONFIG_H
#define AIS_OPUS_CONFIG_H

// ESP32's C_FLAGS define HAVE_CONFIG_H; libopus would then include a config.h it does not ship.
#undef HAVE_CONFIG_H
#define OPUS_BUILD
#define FIXED_POINT 1
#define DISABLE_FLOAT_API
#define VAR_ARRAYS
#define HAVE_LRINT
#define HAVE_LRINTF

#endif
