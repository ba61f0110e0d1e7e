/**
 * Functions that cannot change anything: pg_catalog functions PostgreSQL marks
 * IMMUTABLE or STABLE (provolatile 'i' or 's'), by name, lower-case. A statement that
 * calls any other function (a volatile one such as nextval, setval, set_config,
 * pg_advisory_lock, pg_terminate_backend, lo_import, dblink, random, or any function
 * outside pg_catalog, which could be user-written) is not read-only. Kept short on
 * purpose: a missing entry only makes a harmless query need review.
 *
 * Names are matched unqualified or as `pg_catalog.<name>`; PostgreSQL searches
 * pg_catalog before the search_path unless a role puts it later explicitly, which we
 * assume it does not (docs/databases.md).
 */
export const SAFE_FUNCTIONS: ReadonlySet<string> = new Set([
  // aggregates
  'count', 'sum', 'avg', 'min', 'max', 'array_agg', 'string_agg', 'json_agg', 'jsonb_agg', 'json_object_agg', 'jsonb_object_agg',
  'bool_and', 'bool_or', 'every', 'bit_and', 'bit_or', 'stddev', 'stddev_pop', 'stddev_samp', 'variance', 'var_pop', 'var_samp',
  'percentile_cont', 'percentile_disc', 'mode', 'corr', 'covar_pop', 'covar_samp', 'regr_slope', 'regr_intercept', 'any_value',
  // window functions
  'row_number', 'rank', 'dense_rank', 'percent_rank', 'cume_dist', 'ntile', 'lag', 'lead', 'first_value', 'last_value', 'nth_value',
  // strings
  'lower', 'upper', 'initcap', 'length', 'char_length', 'character_length', 'octet_length', 'bit_length', 'substring', 'substr',
  'trim', 'btrim', 'ltrim', 'rtrim', 'lpad', 'rpad', 'replace', 'translate', 'concat', 'concat_ws', 'format', 'left', 'right',
  'position', 'strpos', 'split_part', 'repeat', 'reverse', 'starts_with', 'overlay', 'quote_ident', 'quote_literal', 'quote_nullable',
  'regexp_replace', 'regexp_match', 'regexp_matches', 'regexp_split_to_array', 'regexp_split_to_table', 'regexp_count', 'regexp_like',
  'regexp_instr', 'regexp_substr', 'string_to_array', 'array_to_string', 'string_to_table', 'ascii', 'chr', 'md5', 'sha224', 'sha256',
  'sha384', 'sha512', 'encode', 'decode', 'to_hex', 'convert_from', 'convert_to', 'normalize', 'unistr', 'casefold',
  // numbers
  'abs', 'ceil', 'ceiling', 'floor', 'round', 'trunc', 'mod', 'power', 'pow', 'sqrt', 'cbrt', 'exp', 'ln', 'log', 'log10', 'sign',
  'div', 'gcd', 'lcm', 'greatest', 'least', 'width_bucket', 'scale', 'pi', 'degrees', 'radians', 'sin', 'cos', 'tan', 'asin', 'acos',
  'atan', 'atan2', 'factorial', 'numeric', 'int4', 'int8', 'float8', 'text',
  // dates and times (now() and friends are STABLE: fixed for the transaction)
  'now', 'transaction_timestamp', 'statement_timestamp', 'current_date', 'current_time', 'current_timestamp', 'localtime', 'localtimestamp',
  'date_trunc', 'date_part', 'extract', 'date_bin', 'age', 'make_date', 'make_time', 'make_timestamp', 'make_timestamptz', 'make_interval',
  'to_char', 'to_date', 'to_timestamp', 'to_number', 'justify_days', 'justify_hours', 'justify_interval', 'isfinite', 'timezone',
  'date_add', 'date_subtract', 'generate_series',
  // json and arrays
  'to_json', 'to_jsonb', 'row_to_json', 'array_to_json', 'json_build_object', 'jsonb_build_object', 'json_build_array', 'jsonb_build_array',
  'json_object', 'jsonb_object', 'json_extract_path', 'jsonb_extract_path', 'json_extract_path_text', 'jsonb_extract_path_text',
  'json_array_length', 'jsonb_array_length', 'json_each', 'jsonb_each', 'json_each_text', 'jsonb_each_text', 'json_array_elements',
  'jsonb_array_elements', 'json_array_elements_text', 'jsonb_array_elements_text', 'json_object_keys', 'jsonb_object_keys', 'json_typeof',
  'jsonb_typeof', 'jsonb_set', 'jsonb_insert', 'jsonb_strip_nulls', 'json_strip_nulls', 'jsonb_pretty', 'jsonb_path_query',
  'jsonb_path_query_array', 'jsonb_path_query_first', 'jsonb_path_exists', 'jsonb_path_match', 'json_populate_record', 'jsonb_populate_record',
  'json_to_record', 'jsonb_to_record', 'json_to_recordset', 'jsonb_to_recordset',
  'array_length', 'array_lower', 'array_upper', 'array_ndims', 'array_dims', 'array_position', 'array_positions', 'array_append',
  'array_prepend', 'array_cat', 'array_remove', 'array_replace', 'cardinality', 'unnest', 'array_fill', 'trim_array',
  // conditionals and misc
  'coalesce', 'nullif', 'num_nulls', 'num_nonnulls', 'pg_typeof', 'format_type', 'current_setting', 'current_schema', 'current_schemas',
  'current_database', 'current_user', 'session_user', 'version', 'pg_backend_pid', 'inet_client_addr', 'inet_server_addr',
  'has_table_privilege', 'has_column_privilege', 'has_schema_privilege', 'has_database_privilege', 'has_function_privilege',
  'pg_has_role', 'pg_get_viewdef', 'pg_get_indexdef', 'pg_get_constraintdef', 'pg_get_functiondef', 'pg_get_triggerdef',
  'pg_get_expr', 'pg_get_userbyid', 'pg_table_is_visible', 'pg_relation_size', 'pg_total_relation_size', 'pg_table_size',
  'pg_indexes_size', 'pg_database_size', 'pg_size_pretty', 'obj_description', 'col_description', 'pg_column_size',
  'to_regclass', 'to_regtype', 'to_regproc', 'uuid_extract_timestamp', 'host', 'masklen', 'network', 'family',
  'tsvector', 'to_tsvector', 'to_tsquery', 'plainto_tsquery', 'phraseto_tsquery', 'websearch_to_tsquery', 'ts_rank', 'ts_headline',
]);

/** Normalizes a function name for facts and the allow-list: lower-case as PostgreSQL folds it, `pg_catalog.` dropped. */
export function functionName(parts: string[]): string {
  const names = parts[0] === 'pg_catalog' && parts.length === 2 ? parts.slice(1) : parts;
  return names.join('.');
}
