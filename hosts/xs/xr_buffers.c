/* Typed-array arguments of the natives, read in place (xr_natives.h). */
#include "xsAll.h"
#include "xr_natives.h"

void* xrTypedArrayArg(void* machine, int index, int elementSize, size_t* count, const char* name)
{
	txMachine* the = machine;
	txSlot* slot;
	txSlot* internal;
	txID expected = elementSize == 1 ? _Uint8Array : _Int16Array;
	if (index >= mxArgc)
		mxTypeError("%s expected a %s, got nothing", name, elementSize == 1 ? "Uint8Array" : "Int16Array");
	slot = mxArgv(index);
	if (slot->kind == XS_REFERENCE_KIND) {
		internal = slot->value.reference->next;
		if (internal && (internal->flag & XS_INTERNAL_FLAG) && internal->kind == XS_TYPED_ARRAY_KIND
			&& internal->value.typedArray.dispatch->constructorID == expected) {
			txSlot* view = internal->next;
			txSlot* buffer = view->next;
			txSlot* arrayBuffer = buffer->value.reference->next;
			if (arrayBuffer->value.arrayBuffer.address == C_NULL)
				mxTypeError("%s: detached buffer", name);
			*count = (size_t)fxGetDataViewSize(the, view, buffer) / (size_t)elementSize;
			return arrayBuffer->value.arrayBuffer.address + view->value.dataView.offset;
		}
	}
	mxTypeError("%s expected a %s", name, elementSize == 1 ? "Uint8Array" : "Int16Array");
	return C_NULL;
}
