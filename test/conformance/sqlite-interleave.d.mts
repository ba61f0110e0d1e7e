import type { Transition } from '../../src/domain/lifecycle.js';
import type { Store } from '../../src/ports/store.js';

/** Inserts actions made by `make` in chunks until at least `min` are written and the other writer was seen; returns how many. */
export function writeUntilInterleaved(store: Store, make: (i: number) => Transition, min: number, chunk?: number): Promise<number>;
