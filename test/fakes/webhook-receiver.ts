import { verifyWebhook, webhookKey } from '../../src/adapters/channels/webhook/webhook-sign.js';
import { json, startHttpFake } from './http-fake.js';

/** A webhook consumer that verifies Standard Webhooks signatures the way its libraries do. */
export async function startWebhookReceiver(secret: string) {
  const key = webhookKey(secret);
  const received: Array<{ id: string; type: string; body: Record<string, unknown>; verified: boolean }> = [];
  const state = { failNext: 0 };
  const fake = await startHttpFake((r, res) => {
    const id = String(r.headers['webhook-id'] ?? '');
    const verified = verifyWebhook(key, { id, timestamp: String(r.headers['webhook-timestamp'] ?? ''), signature: String(r.headers['webhook-signature'] ?? '') }, r.body, Math.floor(Date.now() / 1000));
    if (state.failNext > 0) {
      state.failNext--;
      return json(res, 500, { error: 'try later' });
    }
    const body = JSON.parse(r.body) as Record<string, unknown>;
    received.push({ id, type: String(body.type), body, verified });
    json(res, verified ? 200 : 401, { ok: verified });
  });
  return { ...fake, received, control: state, types: (actionId: string) => received.filter((x) => (x.body.data as { actionId: string }).actionId === actionId).map((x) => x.type) };
}
