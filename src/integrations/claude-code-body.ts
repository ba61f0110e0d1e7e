import type { IncomingMessage } from 'node:http';
import type { FastifyBodyParser, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../domain/errors.js';

/**
 * Why the hook's body was not read as a JSON value. The parser hands it to the route as
 * the body instead of failing the request, because Fastify closes the connection on a
 * parser error while the client may still be sending, and a hook client that sees a
 * reset instead of an answer lets the tool run.
 */
export class HookBodyRefusal {
  constructor(
    readonly code: ErrorCode,
    readonly message: string,
  ) {}
}

/** JSON, as Claude Code sends it: `application/json`, optionally declared UTF-8. */
const JSON_TYPE = /^application\/json[ \t]*(?:;[ \t]*charset[ \t]*=[ \t]*(?:utf-8|"utf-8")[ \t]*)?$/i;

const utf8 = new TextDecoder('utf-8', { fatal: true });

type Done = (err: Error | null, body?: unknown) => void;

/**
 * The one content-type parser of the hook route (registered for every type): never
 * fails, so that whatever arrives is answered with a decision. Buffers at most `limit`
 * bytes: past that (or when Content-Length already says so) it keeps nothing and stops
 * reading (the route drains the rest before it answers: drainBody). The text must be
 * valid UTF-8 (not decoded with replacement
 * characters, which would change what the reviewers see) and is parsed by Fastify's
 * own JSON parser, so `__proto__` and `constructor.prototype` keys are refused as on
 * every other route.
 */
export function hookBodyParser(limit: number, parseJson: FastifyBodyParser<string>) {
  return (req: FastifyRequest, payload: IncomingMessage, done: Done): void => {
    const type = req.headers['content-type'] ?? '';
    if (!JSON_TYPE.test(type)) {
      done(null, new HookBodyRefusal('UNSUPPORTED_MEDIA_TYPE', `the hook input must be sent as application/json (UTF-8), not ${type ? JSON.stringify(type.slice(0, 100)) : 'without a Content-Type'}`));
      return;
    }
    const tooLarge = () => new HookBodyRefusal('PAYLOAD_TOO_LARGE', `the hook input is larger than server.bodyLimitBytes (${limit} bytes); the gateway cannot check this tool use, so it is refused`);
    const declared = Number(req.headers['content-length']);
    if (declared > limit) {
      done(null, tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let finished = false;
    const finish = (body: unknown) => {
      if (finished) return;
      finished = true;
      chunks.length = 0;
      payload.removeListener('data', onData);
      payload.removeListener('end', onEnd);
      payload.removeListener('error', onError);
      done(null, body);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) finish(tooLarge());
      else chunks.push(chunk);
    };
    const onEnd = () => {
      if (!Number.isNaN(declared) && size !== declared) return finish(new HookBodyRefusal('VALIDATION_FAILED', `the body is ${size} bytes, not the ${declared} its Content-Length declares`));
      let text: string;
      try {
        text = utf8.decode(Buffer.concat(chunks, size));
      } catch {
        return finish(new HookBodyRefusal('VALIDATION_FAILED', 'the hook input is not valid UTF-8'));
      }
      parse(req, text, parseJson).then(finish, (e: unknown) => finish(new HookBodyRefusal('VALIDATION_FAILED', `the hook input is not JSON: ${(e instanceof Error ? e.message : String(e)).slice(0, 200)}`)));
    };
    const onError = () => finish(new HookBodyRefusal('VALIDATION_FAILED', 'the body could not be read'));
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onError);
    payload.resume();
  };
}

function parse(req: FastifyRequest, text: string, parseJson: FastifyBodyParser<string>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    try {
      const r = parseJson.call(req.server, req, text, (err, body) => (err ? reject(err) : resolve(body))) as unknown;
      if (r && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).then(resolve, reject);
    } catch (e) {
      // A body nested deep enough can exhaust the stack while it is parsed.
      reject(e instanceof Error ? e : new Error(String(e)));
    }
  });
}

/**
 * Reads and drops what is left of a request body, up to `max` more bytes, before the
 * route answers. A server that answers while the client is still sending closes the
 * connection after the answer, and the client's next write fails; a hook client that
 * sees that error instead of the answer lets the tool run. Past `max` the answer is sent
 * anyway (and the connection closed): no memory is held either way.
 */
export function drainBody(raw: IncomingMessage, max: number): Promise<void> {
  if (raw.complete || raw.readableEnded || raw.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const stop = () => {
      raw.removeListener('data', onData);
      raw.removeListener('end', stop);
      raw.removeListener('close', stop);
      raw.removeListener('error', stop);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > max) stop();
    };
    raw.on('data', onData);
    raw.on('end', stop);
    raw.on('close', stop);
    raw.on('error', stop);
    raw.resume();
  });
}
