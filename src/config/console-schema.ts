import { z } from 'zod';
import { isDuration } from '../domain/duration.js';
import { HUMAN_ID } from '../domain/identity.js';

/**
 * `console:` — the approver web console (docs/console.md): OIDC sign-in with the
 * company's identity provider, server-side sessions. Composed into the one config schema.
 */

const duration = z.string().refine(isDuration, { message: 'expected a duration such as 45s, 15m or 2h' });

export const consoleOidcSchema = z
  .object({
    issuer: z.string().url().describe('The OIDC issuer (discovery at `<issuer>/.well-known/openid-configuration`). Must be https, except on a loopback address (local testing).'),
    clientId: z.string().min(1).max(512).describe('The client id of the console\'s application at the identity provider.'),
    clientSecret: z.string().min(8).optional().describe('The client secret, as `${ENV}` (client_secret_basic). Give this or `privateKeyJwt`.'),
    privateKeyJwt: z
      .object({
        key: z.string().min(32).describe('The private key as a PKCS#8 PEM or a JWK (JSON), as `${ENV}`.'),
        alg: z.enum(['RS256', 'PS256', 'ES256', 'EdDSA']).default('RS256').describe('The signing algorithm of the client assertion.'),
        kid: z.string().min(1).optional().describe('The key id registered at the identity provider.'),
      })
      .strict()
      .optional()
      .describe('Authenticate to the token endpoint with a signed JWT (private_key_jwt) instead of a secret.'),
    scopes: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/)).default(['openid', 'email', 'profile']).describe('Scopes requested; `openid` is always included. Add the scope your provider needs for the groups claim (e.g. `groups`).'),
    groupsClaim: z.string().min(1).default('groups').describe('The ID token claim holding the human\'s groups; merged with the groups configured for the human.'),
    emailClaim: z.string().min(1).default('email').describe('The ID token claim that names the human (matched to `humans[].id`, case-insensitively).'),
    requireVerifiedEmail: z.boolean().default(true).describe('Refuse sign-ins whose `email_verified` claim is not true (when the name comes from the `email` claim).'),
    mapping: z
      .record(z.string().min(1), z.string().regex(HUMAN_ID))
      .default({})
      .describe('Claim values that name a configured human other than by equal id (e.g. `a.smith@corp.example: alice@example.com`); compared case-insensitively.'),
    allowInsecureHttp: z.boolean().default(false).describe('Allow an http:// issuer that is not on a loopback address (never in production).'),
  })
  .strict()
  .refine((o) => (o.clientSecret === undefined) !== (o.privateKeyJwt === undefined), { message: 'give exactly one of clientSecret or privateKeyJwt' });

export const consoleSchema = z
  .object({
    enabled: z.boolean().default(true).describe('Serve the web console under /console.'),
    oidc: consoleOidcSchema.describe('How approvers sign in (authorization code flow with PKCE, state and nonce).'),
    session: z
      .object({
        ttl: duration.default('8h').describe('A session ends this long after sign-in, whatever happens.'),
        idle: duration.default('30m').describe('A session ends after this long without a request.'),
      })
      .strict()
      .default({ ttl: '8h', idle: '30m' })
      .describe('Server-side sessions (listed and revoked with `countersign sessions`).'),
    pageSize: z.number().int().min(10).max(500).default(50).describe('Rows per page in the inbox, history and audit pages.'),
    linkTtl: duration.default('15m').describe('How long a one-time chat linking link stays valid.'),
  })
  .strict();

export type ConsoleConfig = z.infer<typeof consoleSchema>;
export type ConsoleOidcConfig = z.infer<typeof consoleOidcSchema>;
