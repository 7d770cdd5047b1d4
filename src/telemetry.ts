import type { Logger } from './log.ts'

type Level = 'debug' | 'info' | 'warn' | 'error'

/**
 * Internal events of a component: each one is counted and logged by the same call, so the
 * counters an operator reads and the log lines never disagree.
 */
export class Telemetry {
  readonly #log: Logger
  readonly #counts = new Map<string, number>()

  constructor (log: Logger) {
    this.#log = log
  }

  /** Counts `event` by `amount` and logs it at `level` with `fields`. */
  record (event: string, level: Level, fields: Record<string, unknown> = {}, amount = 1): void {
    this.#counts.set(event, (this.#counts.get(event) ?? 0) + amount)
    if (this.#log.isLevelEnabled(level)) {
      this.#log[level]({ event, ...fields }, event.replaceAll('_', ' '))
    }
  }

  /** Counts without logging, for events too frequent to log one by one. */
  count (event: string, amount = 1): void {
    this.#counts.set(event, (this.#counts.get(event) ?? 0) + amount)
  }

  get (event: string): number {
    return this.#counts.get(event) ?? 0
  }

  snapshot (): Record<string, number> {
    return Object.fromEntries(this.#counts)
  }
}
