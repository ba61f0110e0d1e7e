/**
 * The one error catalog. Every error that crosses a boundary carries a stable
 * UPPER_SNAKE code, an HTTP status and optional details. Codes are grouped by
 * feature; adding a code here is the only way to add one.
 */
function defineErrorCodes<const T extends Record<string, { status: number; message: string }>>(codes: T): T {
  return codes;
}

export const ERROR_CODES = {
  ...defineErrorCodes({
    // authentication and authorization
    UNAUTHENTICATED: { status: 401, message: 'Missing or invalid credentials' },
    FORBIDDEN: { status: 403, message: 'Not allowed' },
    AGENT_CANNOT_REVIEW: { status: 403, message: 'Agents cannot review actions' },
    SELF_APPROVAL: { status: 403, message: 'Separation of duties: this identity cannot review its own action' },
    NOT_ELIGIBLE: { status: 403, message: 'Not an eligible reviewer for this action' },
    NOT_REQUESTER: { status: 403, message: 'Only the requester can do this' },
  }),
  ...defineErrorCodes({
    // actions and lifecycle
    NOT_FOUND: { status: 404, message: 'Not found' },
    TARGET_NOT_FOUND: { status: 404, message: 'Unknown target' },
    // MCP gateway: a tools/call naming no `<server>__<tool>` of a configured server (found by the MCP fuzz test: it was named in results but not catalogued)
    TOOL_NOT_FOUND: { status: 404, message: 'No such tool' },
    KIND_MISMATCH: { status: 400, message: 'The action kind does not match the target kind' },
    FINGERPRINT_MISMATCH: { status: 409, message: 'The fingerprint does not match the action' },
    NOT_PENDING: { status: 409, message: 'The action is not pending review' },
    ALREADY_REVIEWED: { status: 409, message: 'This human has already reviewed this action' },
    IDEMPOTENCY_CONFLICT: { status: 409, message: 'The idempotency key was used for a different action' },
    CONFLICT: { status: 409, message: 'The action changed concurrently; retry' },
  }),
  ...defineErrorCodes({
    // input
    VALIDATION_FAILED: { status: 400, message: 'The request is invalid' },
    PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large' },
    UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Unsupported content type' },
    ROUTE_NOT_FOUND: { status: 404, message: 'No such route' },
    METHOD_NOT_ALLOWED: { status: 405, message: 'Method not allowed' },
  }),
  ...defineErrorCodes({
    // sql actions (docs/databases.md)
    SQL_PARSE_ERROR: { status: 422, message: 'PostgreSQL\'s parser rejects the statement' },
    SQL_EMPTY: { status: 400, message: 'The statement is empty' },
    SQL_TOO_LARGE: { status: 413, message: 'The statement is over the size limit' },
    SQL_TOO_MANY_STATEMENTS: { status: 422, message: 'The input holds more statements than allowed' },
    SQL_TOO_COMPLEX: { status: 422, message: 'The statement nests expressions too deeply' },
    SQL_PARAMS_MISMATCH: { status: 422, message: 'The params do not match the statement\'s placeholders' },
    SQL_INVALID_TEXT: { status: 400, message: 'The statement or a param holds text PostgreSQL cannot carry' },
  }),
  ...defineErrorCodes({
    // command actions and runners (docs/commands.md)
    COMMAND_PROGRAM_UNKNOWN: { status: 422, message: 'The program is not one the target runs' },
    COMMAND_INVALID_ARGV: { status: 400, message: 'The argv is not a list of arguments the target can run' },
    COMMAND_TOO_LARGE: { status: 413, message: 'The command input is over a size limit' },
    COMMAND_INVALID_FILE: { status: 400, message: 'A file name or content is not allowed' },
    COMMAND_UNKNOWN_FLAG: { status: 422, message: 'The program\'s preset does not know this flag' },
    COMMAND_FLAG_DENIED: { status: 422, message: 'The program\'s preset denies this flag' },
    RUNNER_UNAUTHENTICATED: { status: 401, message: 'Missing or invalid runner credentials' },
    // runners: mTLS and several replicas (issue 18, runners)
    RUNNER_INSTANCE_TAKEN: { status: 409, message: 'This runner instance id belongs to another runner' },
  }),
  ...defineErrorCodes({
    // policy and configuration
    POLICY_INVALID: { status: 400, message: 'The policy is invalid' },
    POLICY_UNAVAILABLE: { status: 503, message: 'No policy is loaded' },
    CONFIG_INVALID: { status: 400, message: 'The configuration is invalid' },
  }),
  ...defineErrorCodes({
    // execution
    UNSAFE_REQUEST: { status: 400, message: 'The request would leave the target' },
    AMBIGUOUS_BODY: { status: 400, message: 'The target could read the body otherwise than policy does' },
    EXECUTION_FAILED: { status: 502, message: 'The execution failed' },
  }),
  ...defineErrorCodes({
    // standing grants, counters and replay (issue 17: docs/policy.md)
    GRANT_NOT_ALLOWED: { status: 400, message: 'The policy allows no grant on this action' },
    GRANT_OUT_OF_BOUNDS: { status: 400, message: 'The grant asks for more time or uses than the policy allows' },
    GRANT_NOT_FOUND: { status: 404, message: 'No such grant' },
    GRANT_INACTIVE: { status: 409, message: 'The grant is no longer active' },
  }),
  ...defineErrorCodes({
    // storage and internals: details are masked before they leave the server
    STORAGE_ERROR: { status: 503, message: 'Storage is unavailable' },
    INTERNAL: { status: 500, message: 'Internal error' },
    SHUTTING_DOWN: { status: 503, message: 'The gateway is shutting down' },
  }),
  ...defineErrorCodes({
    // chat channels and webhooks (Slack, Microsoft Teams)
    SLACK_SIGNATURE_INVALID: { status: 401, message: 'The Slack request signature is missing or invalid' },
    SLACK_TIMESTAMP_INVALID: { status: 401, message: 'The Slack request timestamp is missing or more than 5 minutes from now' },
    SLACK_TEAM_MISMATCH: { status: 403, message: 'The interaction comes from another Slack workspace' },
    TEAMS_UNAUTHENTICATED: { status: 401, message: 'The Bot Framework token is missing or invalid' },
    TEAMS_TENANT_NOT_ALLOWED: { status: 403, message: 'The activity comes from a tenant that is not allowed' },
    CHAT_USER_UNKNOWN: { status: 403, message: 'This chat user is not mapped to a configured human' },
    CHAT_USER_AMBIGUOUS: { status: 403, message: 'This chat user maps to more than one configured human' },
    CHANNEL_UNAVAILABLE: { status: 502, message: 'The chat or webhook service did not accept the call' },
    // the verifiable audit log
    AUDIT_NO_CHECKPOINT: { status: 404, message: 'No signed checkpoint covers this yet' },
    AUDIT_RANGE: { status: 400, message: 'The request is outside the audit log' },
    AUDIT_INCONSISTENT: { status: 500, message: 'The audit log is inconsistent with its last signed checkpoint' },
    AUDIT_KEY_INVALID: { status: 500, message: 'The audit signing key is unusable' },
    // a checkpoint an auditor kept (`audit verify --known-checkpoint`): usage errors, never a verdict on the log
    KNOWN_CHECKPOINT_UNREADABLE: { status: 400, message: 'The known checkpoint cannot be read' },
    KNOWN_CHECKPOINT_SIGNATURE: { status: 400, message: 'The known checkpoint is not signed by a trusted key' },
    KNOWN_CHECKPOINT_ORIGIN: { status: 400, message: 'The known checkpoint is of another log' },
    KNOWN_CHECKPOINT_BEFORE_RANGE: { status: 400, message: 'The known checkpoint is before the range the bundle holds' },
  }),
  ...defineErrorCodes({
    // the web console (docs/console.md)
    CONSOLE_SIGNIN_REQUIRED: { status: 401, message: 'Sign in to the console first' },
    CONSOLE_SESSION_ENDED: { status: 401, message: 'Your console session ended: sign in again' },
    CONSOLE_SIGNIN_FAILED: { status: 400, message: 'Sign-in failed' },
    CONSOLE_IDP_UNAVAILABLE: { status: 502, message: 'The identity provider could not be reached' },
    CSRF_INVALID: { status: 403, message: 'The form is missing its anti-forgery token or it does not match your session' },
    CHAT_LINK_INVALID: { status: 404, message: 'This link is unknown, used or expired: ask for a new one from chat' },
    CHAT_NOT_LINKED: { status: 403, message: 'This chat account is not linked to a human: open the link Countersign sent you and sign in' },
  }),
  ...defineErrorCodes({
    // standing grants: path patterns and exact counters (issue 17, docs/policy.md)
    GRANT_PATH_INVALID: { status: 400, message: 'The grant\'s path pattern is invalid or does not match the approved action' },
    HISTORY_CONTENDED: { status: 503, message: 'Counters kept changing under this decision: try again' },
  }),
};

export type ErrorCode = keyof typeof ERROR_CODES;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message?: string, details?: Record<string, unknown>) {
    super(message ?? ERROR_CODES[code].message);
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.details = details;
  }
}

/**
 * By shape as well as by class: a second copy of this module (the store's writer
 * thread, a bundled SDK) makes errors that are AppErrors in all but identity.
 */
export function isAppError(e: unknown): e is AppError {
  if (e instanceof AppError) return true;
  if (!(e instanceof Error) || e.name !== 'AppError') return false;
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}
