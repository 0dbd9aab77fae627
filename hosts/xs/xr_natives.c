/* The global `natives` of the XS hosts (xr_natives.h). */
#include "xs.h"
#include "xr_natives.h"

void xrInstallNatives(void* machine)
{
	xsMachine* the = machine;
	xsBeginHost(the);
	{
		xsVars(2);
		xsVar(0) = xsNewObject();
		xrInstallCryptoNatives(the);
		xsSet(xsGlobal, xsID("natives"), xsVar(0));
	}
	xsEndHost(the);
}
