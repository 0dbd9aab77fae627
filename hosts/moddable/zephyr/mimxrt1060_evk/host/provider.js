// The ECMA-419 host provider (the `device` global) of this board: what mcdevicetree generates from the board's
// Zephyr device tree (mc/devicetree), as the SDK's own Zephyr targets give it.
import device from "mc/devicetree";

export default device;
