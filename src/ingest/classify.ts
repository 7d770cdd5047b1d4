import { ClickHouseError } from '@clickhouse/client'

/**
 * The one place that decides what a failed ClickHouse write means. "retry": the server or the
 * path to it is unwell, and the same rows will be accepted later, so they are retried for as
 * long as it takes. "reject": the server refused the rows themselves, so retrying cannot help;
 * the batch is split to find the rows at fault, which become dead letters.
 */
export type StoreFailure = 'retry' | 'reject'

/** ClickHouse error codes that blame the data, not the server. */
const contentErrorCodes = new Set([
  6, // CANNOT_PARSE_TEXT
  25, // CANNOT_PARSE_ESCAPE_SEQUENCE
  26, // CANNOT_PARSE_QUOTED_STRING
  27, // CANNOT_PARSE_INPUT_ASSERTION_FAILED
  38, // CANNOT_PARSE_DATE
  41, // CANNOT_PARSE_DATETIME
  53, // TYPE_MISMATCH
  69, // ARGUMENT_OUT_OF_BOUND
  70, // CANNOT_CONVERT_TYPE
  72, // CANNOT_PARSE_NUMBER
  117, // INCORRECT_DATA
  131, // TOO_LARGE_STRING_SIZE
  321 // VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
])

export function classifyStoreError (error: unknown): StoreFailure {
  const code = serverErrorCode(error)
  if (code !== undefined && contentErrorCodes.has(code)) {
    return 'reject'
  }
  // Everything else (refused connections, timeouts, authentication, a missing table or
  // database, memory limits, too many parts) is a condition of the server that an operator
  // or time can fix. Skipping rows on an error we do not recognise would lose data silently.
  return 'retry'
}

/**
 * The server's error code. Current servers end the message with `(TYPE)`, which the client
 * parses into a ClickHouseError; 18.16 words it as `Code: 27, e.displayText() = ...`, which
 * reaches us as a plain Error.
 */
function serverErrorCode (error: unknown): number | undefined {
  if (error instanceof ClickHouseError) {
    return Number(error.code)
  }
  const match = error instanceof Error ? /^Code: (\d+)[.,]/.exec(error.message) : null
  return match === null ? undefined : Number(match[1])
}
