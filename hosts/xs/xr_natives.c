/* The global `natives` of the XS hosts (xr_natives.h). */
#include "xs.h"
#include "xr_natives.h"

void xrDefineNative(xsMachine* the, const char* name, xsCallback callback, int length)
{
	xsVar(1) = xsNewHostFunction(callback, length);
	xsSet(xsVar(0), xsID(name), xsVar(1));
}

void xrInstallNatives(void* machine)
{
	xsMachine* the = machine;
	xsBeginHost(the);
	{
		xsVars(2);
		xsVar(0) = xsNewObject();
		xrInstallCryptoNatives(the);
		xrInstallOpusNatives(the);
		xrInstallDspNatives(the);
		xsSet(xsGlobal, xsID("natives"), xsVar(0));
	}
	xsEndHost(the);
}
