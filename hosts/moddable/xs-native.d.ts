// XS's binding of JavaScript to C in a Moddable build (documentation/xs/XS in C.md, "Native"): a class whose
// instances carry host data freed by the named C destructor, and native("xs_name") for a C function. Globals of
// the Moddable runtime only; xsrun does not provide them, so only board modules (board-*.ts) use them.
declare function Native(destructor: string): new () => object;
declare function native(name: string): (...args: unknown[]) => unknown;
