import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { ScramExchange, mockVerifier, scramVerifier } from './scram-server.js';

// node-postgres's own SCRAM client is the other side: an independent implementation.
const sasl = createRequire(import.meta.url)('pg/lib/crypto/sasl.js') as {
  startSession(mechanisms: string[]): { response: string };
  continueSession(session: object, password: string, serverData: string): Promise<void>;
  finalizeSession(session: object, serverData: string): void;
};

const initial = (response: string) => {
  const data = Buffer.from(response, 'utf8');
  const len = Buffer.alloc(4);
  len.writeInt32BE(data.length);
  return Buffer.concat([Buffer.from('SCRAM-SHA-256\u0000'), len, data]);
};

async function login(serverPassword: string | null, clientPassword: string): Promise<boolean> {
  const ex = new ScramExchange(serverPassword === null ? mockVerifier(randomBytes(32), 'nobody') : scramVerifier(serverPassword));
  const session = sasl.startSession(['SCRAM-SHA-256']);
  const serverFirst = ex.first(initial(session.response));
  await sasl.continueSession(session, clientPassword, serverFirst);
  const final = ex.final(Buffer.from(session.response, 'utf8'));
  if (!final) return false;
  sasl.finalizeSession(session, final);
  return true;
}

describe('SCRAM-SHA-256', () => {
  it('accepts the token node-postgres proves it holds, and node-postgres accepts the server signature', async () => {
    expect(await login('s3cret-token', 's3cret-token')).toBe(true);
  });

  it('refuses a wrong token', async () => {
    expect(await login('s3cret-token', 'another')).toBe(false);
  });

  it('refuses everyone for an unknown user (the mock exchange)', async () => {
    expect(await login(null, 'anything')).toBe(false);
  });
});
