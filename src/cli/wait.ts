import { setTimeout as sleep } from 'node:timers/promises'
import { anyInChain } from '../errors.ts'
import type { Logger } from '../log.ts'

/**
 * Codes of a server that could not be reached at all (not listening yet, no route, a name
 * not resolving yet), as opposed to one that answered and refused: a wrong password or an
 * untrusted certificate will not fix itself, so those are not waited for.
 */
const unreachableCodes = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOTFOUND',
  'EAI_AGAIN', 'EPIPE', 'PLT_KFK_TIMEOUT'
])

/** What a Kafka broker that is still starting answers, before it serves requests. */
const notReadyKafkaErrors = new Set([
  'BROKER_NOT_AVAILABLE', 'LEADER_NOT_AVAILABLE', 'COORDINATOR_NOT_AVAILABLE',
  'COORDINATOR_LOAD_IN_PROGRESS', 'NOT_CONTROLLER', 'REQUEST_TIMED_OUT'
])

/** Whether `error`, or any error it wraps, says the server could not be reached yet. */
export function isUnreachable (error: unknown): boolean {
  return anyInChain(error, ({ code, message, apiId }) =>
    (typeof code === 'string' && unreachableCodes.has(code)) ||
    (typeof apiId === 'string' && notReadyKafkaErrors.has(apiId)) ||
    // The ClickHouse client's request timeout carries no code.
    message === 'Timeout error.')
}

export interface WaitOptions {
  /** What is waited for, as the log names it: "ClickHouse at http://…". */
  server: string
  /** How long to keep trying; 0 tries once. */
  waitMs: number
  log: Logger
  signal?: AbortSignal
  /** Turns an error into the one line the log shows. */
  describe: (error: unknown) => string
}

const firstDelayMs = 1000
const maxDelayMs = 10_000

/**
 * Runs `attempt` until it succeeds, as long as its failures say the server is unreachable and
 * `waitMs` has not passed; then the last error is thrown. Any other failure is thrown at once.
 */
export async function whileUnreachable<T> (attempt: () => Promise<T>, options: WaitOptions): Promise<T> {
  const deadline = Date.now() + options.waitMs
  let delay = firstDelayMs
  for (let tries = 1; ; tries++) {
    try {
      return await attempt()
    } catch (error) {
      const left = deadline - Date.now()
      if (!isUnreachable(error) || left <= 0 || options.signal?.aborted === true) throw error
      const retryInMs = Math.min(delay, left)
      options.log.warn({
        event: 'waiting_for_server', server: options.server, cause: options.describe(error),
        tries, retryInMs, waitLeftMs: left
      }, `waiting for ${options.server}`)
      try {
        await sleep(retryInMs, undefined, { signal: options.signal })
      } catch {
        throw error
      }
      delay = Math.min(delay * 2, maxDelayMs)
    }
  }
}
