// Well-known locations. Only node: built-ins here (used on the fast path).

import { fileURLToPath } from 'node:url';

/** The osvb checkout/package root: holds modules/, kconfig/, examples/. */
export function packageRoot(): string {
  // src/kernel/paths.ts and dist/kernel/paths.js are both two levels below the root.
  return fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
}
