/**
 * SQLSTATE codes the wire gateway sends (PostgreSQL's own, appendix A of its manual), so
 * that clients and ORMs react as they would to the database: 42501 is a permission
 * refusal, 28P01 a failed password, 57014 a cancel.
 */
export const SQLSTATE = {
  PROTOCOL_VIOLATION: '08P01',
  FEATURE_NOT_SUPPORTED: '0A000',
  INVALID_AUTHORIZATION: '28000',
  INVALID_PASSWORD: '28P01',
  INVALID_CATALOG_NAME: '3D000',
  INSUFFICIENT_PRIVILEGE: '42501',
  SYNTAX_ERROR: '42601',
  ACTIVE_SQL_TRANSACTION: '25001',
  QUERY_CANCELED: '57014',
  TOO_MANY_CONNECTIONS: '53300',
  CONNECTION_FAILURE: '08006',
  SQLCLIENT_UNABLE_TO_CONNECT: '08001',
  ADMIN_SHUTDOWN: '57P01',
  INTERNAL_ERROR: 'XX000',
  INVALID_PARAMETER_VALUE: '22023',
  UNDEFINED_PREPARED_STATEMENT: '26000',
  UNDEFINED_CURSOR: '34000',
} as const;

/** A message the client sent that breaks the protocol: the session ends with FATAL 08P01 and this text. */
export class WireProtocolError extends Error {
  constructor(
    message: string,
    readonly code: string = SQLSTATE.PROTOCOL_VIOLATION,
  ) {
    super(message);
    this.name = 'WireProtocolError';
  }
}

/** The SQLSTATE a client gets for a Countersign error code (the error's own code goes in the detail). */
export function sqlstateOf(code: string): string {
  switch (code) {
    case 'SQL_PARSE_ERROR':
      return SQLSTATE.SYNTAX_ERROR;
    case 'SQL_PARAMS_MISMATCH':
      return SQLSTATE.PROTOCOL_VIOLATION;
    case 'SQL_INVALID_TEXT':
      return '22021';
    case 'SQL_TOO_LARGE':
    case 'SQL_TOO_MANY_STATEMENTS':
      return '54000';
    case 'SQL_TOO_COMPLEX':
      return '54001';
    case 'POLICY_UNAVAILABLE':
      return '57P03';
    case 'VALIDATION_FAILED':
      return SQLSTATE.INVALID_PARAMETER_VALUE;
    default:
      return SQLSTATE.INTERNAL_ERROR;
  }
}
