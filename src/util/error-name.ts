/**
 * Gives an Error subclass's instances their `name`. Defined, not assigned: a Moddable build freezes
 * Error.prototype, and an assignment cannot shadow a frozen prototype's property (it throws in strict code).
 */
export function nameError(error: Error, name: string): void {
  Object.defineProperty(error, 'name', { value: name, configurable: true, writable: true });
}
