// Paths for tests and tools, which run compiled from build/; fixtures live in the source tree.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The repository root (two levels above build/test/support/). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export function fromRoot(...parts: string[]): string {
  return join(repoRoot, ...parts);
}
