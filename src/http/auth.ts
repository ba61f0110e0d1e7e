import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../domain/errors.js';
import type { Principal } from '../domain/identity.js';
import type { Authenticator } from '../ports/authenticator.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** `Bearer <credential>`: the one accepted form of the Authorization header. */
export const BEARER_CREDENTIAL = /^Bearer ([\x21-\x7e]{1,8192})$/;

/** onRequest hook: every /v1 call carries a bearer credential (agent token, human token or OIDC JWT). */
export function authHook(authenticator: Authenticator) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const header = req.headers.authorization;
    const m = typeof header === 'string' ? BEARER_CREDENTIAL.exec(header) : null;
    const principal = m ? await authenticator.authenticate(m[1]!) : undefined;
    if (!principal) {
      void reply.header('www-authenticate', 'Bearer realm="countersign"');
      throw new AppError('UNAUTHENTICATED', header ? 'Invalid credentials' : 'Missing Authorization: Bearer <token>');
    }
    req.principal = principal;
  };
}

export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new AppError('UNAUTHENTICATED');
  return req.principal;
}
