import { setTimeout as sleep } from 'node:timers/promises'
import { decodeEvent, type DecodeLimits } from '../event/index.ts'
import { deleteEventRows, type Store } from '../store/index.ts'
import type { Telemetry } from '../telemetry.ts'
import { classifyStoreError } from './classify.ts'
import type { DeadLetterSink } from './dead-letters.ts'
import { emptyRows, RowBuilder, type MessageCoordinates, type Rows } from './rows.ts'

export interface WriteResult {
  stored: number
  deadLettered: number
}

const retryMinMs = 250
const retryMaxMs = 15_000

/**
 * Writes one batch of Kafka messages to ClickHouse: valid events into the event and sample
 * tables, everything else into the dead letters. It returns only when every message of the
 * batch is in one or the other, so the caller may then commit the batch's offsets.
 */
export class BatchWriter {
  readonly #store: Store
  readonly #rows: RowBuilder
  readonly #limits: DecodeLimits
  readonly #deadLetters: DeadLetterSink
  readonly #telemetry: Telemetry
  readonly #signal: AbortSignal

  constructor (options: { store: Store, limits: DecodeLimits, deadLetters: DeadLetterSink,
    telemetry: Telemetry, signal: AbortSignal }) {
    this.#store = options.store
    this.#rows = new RowBuilder(options.store.features)
    this.#limits = options.limits
    this.#deadLetters = options.deadLetters
    this.#telemetry = options.telemetry
    this.#signal = options.signal
  }

  async write (messages: MessageCoordinates[]): Promise<WriteResult> {
    const now = Date.now()
    const valid: Array<{ message: MessageCoordinates, rows: Rows }> = []
    const rejected = emptyRows()

    for (const message of messages) {
      const decoded = decodeEvent(message.value, message.key, this.#limits, now)
      if (decoded.ok) {
        const rows = emptyRows()
        this.#rows.addEvent(rows, message, decoded.event, now)
        valid.push({ message, rows })
      } else {
        this.#rows.addDeadLetter(rejected, message, decoded.reason, decoded.detail, now)
      }
    }

    await this.#insertIsolating(valid, rejected)
    const refused = (rejected.dead_letters as Array<{ id: number, reason: string }>)
      .filter((row) => row.reason === 'rejected_by_store').map((row) => row.id)
    if (refused.length > 0) {
      // The tables are written one insert each, so those that took a refused event before
      // another table refused it hold some of its rows: they are deleted, in one statement per
      // table for the whole batch, leaving those events in the dead letters only.
      await this.#retrying('delete_refused', () => deleteEventRows(this.#store, refused))
    }
    const deadLettered = rejected.dead_letters.length
    if (deadLettered > 0) {
      await this.#retrying('dead_letters', () => this.#store.insert('dead_letters', rejected.dead_letters))
      await this.#retrying('dead_letter_topic', () => this.#deadLetters.publish(rejected.dead_letters))
      this.#telemetry.record('messages_dead_lettered', 'warn', {
        count: deadLettered,
        reasons: countBy(rejected.dead_letters as Array<{ reason: string }>)
      }, deadLettered)
    }

    const stored = messages.length - deadLettered
    this.#telemetry.count('events_stored', stored)
    return { stored, deadLettered }
  }

  /** Inserts the rows; when the server rejects a set for its content, halves it to find why. */
  async #insertIsolating (items: Array<{ message: MessageCoordinates, rows: Rows }>,
    rejected: Rows): Promise<void> {
    if (items.length === 0) {
      return
    }

    const merged = emptyRows()
    for (const { rows } of items) {
      merged.events.push(...rows.events)
      merged.host_samples.push(...rows.host_samples)
      merged.filesystem_samples.push(...rows.filesystem_samples)
      merged.interface_samples.push(...rows.interface_samples)
    }

    const outcome = await this.#retrying('insert', () => this.#insertAll(merged), true)
    if (outcome === 'ok') {
      return
    }
    if (items.length === 1) {
      this.#rows.addDeadLetter(rejected, items[0].message, 'rejected_by_store', outcome.message)
      return
    }
    const half = Math.ceil(items.length / 2)
    await this.#insertIsolating(items.slice(0, half), rejected)
    await this.#insertIsolating(items.slice(half), rejected)
  }

  async #insertAll (rows: Rows): Promise<void> {
    // Every insert is waited for, failed or not, before the next step: one still running when a
    // sibling's failure is acted on could land after the deletes that clean up after it.
    const settled = await Promise.allSettled([
      this.#store.insert('host_samples', rows.host_samples),
      this.#store.insert('filesystem_samples', rows.filesystem_samples),
      this.#store.insert('interface_samples', rows.interface_samples)
    ])
    for (const outcome of settled) {
      if (outcome.status === 'rejected') throw outcome.reason
    }
    // The raw events go last: a batch whose events are stored has all its typed rows too.
    await this.#store.insert('events', rows.events)
  }

  /**
   * Runs `operation` until it succeeds, backing off between attempts. With `mayReject`, an error
   * that blames the data is returned instead of retried. Stops only when ingest is stopping.
   */
  async #retrying (what: string, operation: () => Promise<void>, mayReject = false):
    Promise<'ok' | Error> {
    let delay = retryMinMs
    for (let attempt = 1; ; attempt++) {
      this.#signal.throwIfAborted()
      try {
        await operation()
        if (attempt > 1) {
          this.#telemetry.record('store_recovered', 'info', { what, attempts: attempt })
        }
        return 'ok'
      } catch (error) {
        if (mayReject && classifyStoreError(error) === 'reject') {
          this.#telemetry.record('store_rejected_rows', 'warn', { what, error: (error as Error).message })
          return error as Error
        }
        // The first failure and then every tenth is logged; each one is counted.
        if (attempt === 1 || attempt % 10 === 0) {
          this.#telemetry.record('store_write_failed', 'error', {
            what, attempt, retryInMs: delay, error: (error as Error).message
          })
        } else {
          this.#telemetry.count('store_write_failed')
        }
        await sleep(delay, undefined, { signal: this.#signal }).catch(() => {})
        delay = Math.min(delay * 2, retryMaxMs)
      }
    }
  }
}

function countBy (rows: Array<{ reason: string }>): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const row of rows) {
    counts[row.reason] = (counts[row.reason] ?? 0) + 1
  }
  return counts
}
