import { randomFillSync } from 'node:crypto';
import type { IdSource } from '../../ports/ids.js';

const POOL_SIZE = 4096;

/**
 * Action ids: `act_` + 48 bits of milliseconds + 80 random bits, in hex (like a
 * ULID). Time-ordered ids keep the store's indexes append-mostly, which makes each
 * durable write markedly cheaper than with random keys; 80 bits of randomness keep
 * them unguessable. Randomness comes from a pooled CSPRNG buffer, refilled in bulk.
 */
export function createTimeOrderedIds(): IdSource {
  const pool = Buffer.alloc(POOL_SIZE);
  let offset = POOL_SIZE;
  return {
    actionId() {
      if (offset + 10 > POOL_SIZE) {
        randomFillSync(pool);
        offset = 0;
      }
      const rand = pool.toString('hex', offset, offset + 10);
      offset += 10;
      return `act_${Date.now().toString(16).padStart(12, '0')}${rand}`;
    },
  };
}
