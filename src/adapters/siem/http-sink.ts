import type { SiemFormat } from '../../domain/siem-events.js';
import type { SiemSink } from '../../ports/siem-sink.js';

/**
 * POSTs each batch as a JSON array (CloudEvents in batched mode,
 * `application/cloudevents-batch+json`); any 2xx is delivered, anything else is
 * retried later. Configured headers carry the collector's credentials.
 */
export function createHttpSink(opts: { name: string; url: string; format: SiemFormat; headers: Record<string, string>; timeoutMs: number }): SiemSink {
  const contentType = opts.format === 'cloudevents' ? 'application/cloudevents-batch+json' : 'application/json';
  return {
    name: opts.name,
    async deliver(events) {
      if (events.length === 0) return;
      const res = await fetch(opts.url, {
        method: 'POST',
        headers: { 'user-agent': 'countersign-siem', ...opts.headers, 'content-type': contentType },
        body: JSON.stringify(events),
        signal: AbortSignal.timeout(opts.timeoutMs),
        redirect: 'error',
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.status < 200 || res.status > 299) throw new Error(`the SIEM endpoint of ${opts.name} answered HTTP ${res.status}`);
    },
  };
}
