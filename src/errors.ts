/**
 * Every error Vitals raises on purpose carries a `VITALS_` code and says whether retrying the
 * same operation can succeed. User mistakes (`UserError`) are printed as one line, never a stack.
 */
export const ErrorCodes = {
  CONFIG: 'VITALS_CONFIG',
  USAGE: 'VITALS_USAGE',
  MISSING_TOOL: 'VITALS_MISSING_TOOL',
  STACK_TIMEOUT: 'VITALS_STACK_TIMEOUT',
  STACK_PROCESS: 'VITALS_STACK_PROCESS',
  EVENT_INVALID: 'VITALS_EVENT_INVALID',
  STORE_UNAVAILABLE: 'VITALS_STORE_UNAVAILABLE',
  STORE_REJECTED: 'VITALS_STORE_REJECTED',
  KAFKA_UNAVAILABLE: 'VITALS_KAFKA_UNAVAILABLE'
} as const

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes]

export class VitalsError extends Error {
  readonly code: ErrorCode
  readonly retriable: boolean

  constructor (code: ErrorCode, message: string, options: { retriable?: boolean, cause?: unknown } = {}) {
    super(message, { cause: options.cause })
    this.name = 'VitalsError'
    this.code = code
    this.retriable = options.retriable ?? false
  }
}

/** A mistake the user can fix: shown as one line naming what is wrong. */
export class UserError extends VitalsError {
  constructor (code: ErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options)
    this.name = 'UserError'
  }
}

export class ConfigError extends UserError {
  readonly key: string

  constructor (key: string, problem: string) {
    super(ErrorCodes.CONFIG, `invalid setting ${key}: ${problem}`)
    this.key = key
  }
}

export class MissingToolError extends UserError {
  constructor (tool: string, debianPackage: string) {
    super(ErrorCodes.MISSING_TOOL,
      `${tool} was not found; install it with: apt-get install -y ${debianPackage}`)
  }
}

export function isUserError (error: unknown): error is UserError {
  return error instanceof UserError
}

/**
 * Whether `test` holds for `error` or for any error it wraps, through `cause` and the `errors`
 * of an aggregate, as client libraries nest them ("metadata failed 4 times." around the refusal).
 */
export function anyInChain (error: unknown, test: (node: Record<string, unknown>) => boolean): boolean {
  const visit = (node: unknown, depth: number): boolean => {
    if (depth > 6 || typeof node !== 'object' || node === null) return false
    if (test(node as Record<string, unknown>)) return true
    return wrappedErrors(node).some((child) => visit(child, depth + 1))
  }
  return visit(error, 0)
}

/** The errors `node` wraps: an aggregate's `errors`, then its `cause`. */
export function wrappedErrors (node: object): unknown[] {
  return [...((node as { errors?: unknown[] }).errors ?? []), (node as { cause?: unknown }).cause]
    .filter((child) => child !== undefined && child !== null)
}
