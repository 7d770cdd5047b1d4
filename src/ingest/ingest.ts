import { setTimeout as sleep } from 'node:timers/promises'
import { Consumer, type Message, type MessagesStream } from '@platformatic/kafka'
import type { Settings } from '../config/index.ts'
import { kafkaErrorCause } from '../kafka/errors.ts'
import type { KafkaConnection } from '../kafka/options.ts'
import type { Logger } from '../log.ts'
import type { Store } from '../store/index.ts'
import { Telemetry } from '../telemetry.ts'
import { DeadLetterSink } from './dead-letters.ts'
import type { MessageCoordinates } from './rows.ts'
import { BatchWriter } from './writer.ts'

type KafkaMessage = Message<Buffer, Buffer, Buffer, Buffer>

const resumeMinMs = 500
const resumeMaxMs = 10_000

export interface IngestOptions {
  connection: KafkaConnection
  settings: Settings['ingest']
  topic: string
  deadLetterTopic: string
  store: Store
  log: Logger
}

/**
 * The consumer side of the pipeline. Messages are gathered into batches bounded by count and
 * age; a batch is written to ClickHouse and only then are its offsets committed. While a batch
 * is being written the stream is paused, so a slow or absent ClickHouse holds consumption back
 * instead of filling memory.
 */
export class Ingest {
  readonly telemetry: Telemetry
  readonly #options: IngestOptions
  readonly #consumer: Consumer<Buffer, Buffer, Buffer, Buffer>
  readonly #deadLetters: DeadLetterSink
  readonly #abort = new AbortController()
  readonly #stopping = new AbortController()
  readonly #writer: BatchWriter
  #stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined
  #batch: KafkaMessage[] = []
  #batchStartedAt = 0
  #flushing: Promise<void> | undefined
  #timer: NodeJS.Timeout | undefined
  #failure: Error | undefined
  #onFailure: (error: Error) => void = () => {}
  #resuming: Promise<void> | undefined

  constructor (options: IngestOptions) {
    this.#options = options
    this.telemetry = new Telemetry(options.log)
    this.#consumer = new Consumer({
      ...options.connection,
      groupId: options.settings.groupId,
      autocommit: false,
      sessionTimeout: 20_000,
      heartbeatInterval: 2_000,
      rebalanceTimeout: 30_000,
      maxWaitTime: Math.min(500, options.settings.maxBatchMs),
      // Enough read-ahead to fill the next batch while one is being written, and no more.
      highWaterMark: Math.max(64, options.settings.maxBatchRows)
    })
    this.#deadLetters = new DeadLetterSink(options.connection, options.deadLetterTopic)
    this.#writer = new BatchWriter({
      store: options.store,
      limits: options.settings,
      deadLetters: this.#deadLetters,
      telemetry: this.telemetry,
      signal: this.#abort.signal
    })
  }

  async start (): Promise<void> {
    // The group membership failing for good (a rejoin that ran out of retries) is reported
    // here; without a listener it would end the process. The stream fails with it and is
    // started again, which joins the group anew.
    this.#consumer.on('error', (error: Error) => {
      this.telemetry.record('consumer_group_error', 'error', { error: kafkaErrorCause(error) })
    })
    await this.#consume()
    const tick = Math.max(10, Math.floor(this.#options.settings.maxBatchMs / 4))
    this.#timer = setInterval(() => this.#flushIfDue(), tick)
    this.telemetry.record('ingest_started', 'info', {
      topic: this.#options.topic, group: this.#options.settings.groupId
    })
  }

  /**
   * Writes and commits what has been received, then leaves the group. If ClickHouse cannot be
   * reached before `timeoutMs`, the held messages are not committed and will be redelivered.
   */
  async stop (timeoutMs = 10_000): Promise<void> {
    clearInterval(this.#timer)
    this.#stopping.abort()
    this.#stream?.pause()

    const drained = (async () => {
      // A stream being started again when the stop came is paused as well.
      await this.#resuming
      this.#stream?.pause()
      await this.#flushing
      await this.#flush()
    })()
    const timedOut = await Promise.race([
      drained.then(() => false, () => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(true), timeoutMs).unref())
    ])
    if (timedOut) {
      this.telemetry.record('ingest_stopped_with_uncommitted', 'warn', { held: this.#batch.length })
      this.#abort.abort()
      await drained.catch(() => {})
    }

    for (const close of [() => this.#stream?.close(), () => this.#consumer.close(true),
      () => this.#deadLetters.close()]) {
      try {
        await close()
      } catch (error) {
        this.#options.log.debug({ error }, 'close failed during stop')
      }
    }
    this.telemetry.record('ingest_stopped', 'info', this.telemetry.snapshot())
  }

  /** The error that stopped ingest, if any. */
  get failure (): Error | undefined {
    return this.#failure
  }

  /** Resolves with the error that stops ingest, if one ever does. */
  readonly failed: Promise<Error> = new Promise((resolve) => { this.#onFailure = resolve })

  async #consume (): Promise<void> {
    const stream = await this.#consumer.consume({
      topics: [this.#options.topic],
      mode: 'committed',
      fallbackMode: 'earliest',
      autocommit: false
    })
    stream.on('data', (message: KafkaMessage) => this.#receive(message))
    stream.on('error', (error: Error) => this.#streamFailed(stream, error))
    this.#stream = stream
  }

  /**
   * The client ends a stream for good when a fetch fails beyond its own retries (a broker
   * restarting, a stale leader epoch). Ingest then starts a new one, or it would stay up and
   * consume nothing.
   */
  #streamFailed (stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>, error: Error): void {
    this.telemetry.record('consumer_error', 'error', { error: kafkaErrorCause(error) })
    if (stream !== this.#stream || this.#stopping.signal.aborted) {
      return
    }
    this.#stream = undefined
    this.#resuming ??= this.#resume().finally(() => { this.#resuming = undefined })
  }

  async #resume (): Promise<void> {
    // A batch being written is finished and committed. What arrived after it is dropped
    // unwritten: the new stream starts from the committed offsets and reads it again.
    await this.#flushing
    this.#batch = []
    let delay = resumeMinMs
    while (!this.#stopping.signal.aborted && this.#failure === undefined) {
      await sleep(delay, undefined, { signal: this.#stopping.signal }).catch(() => {})
      if (this.#stopping.signal.aborted) {
        return
      }
      try {
        await this.#consume()
        this.telemetry.record('consumer_resumed', 'info')
        return
      } catch (error) {
        this.telemetry.record('consumer_error', 'error', {
          error: (error as Error).message, retryInMs: delay
        })
        delay = Math.min(delay * 2, resumeMaxMs)
      }
    }
  }

  #receive (message: KafkaMessage): void {
    if (this.#batch.length === 0) {
      this.#batchStartedAt = Date.now()
    }
    this.#batch.push(message)
    if (this.#batch.length >= this.#options.settings.maxBatchRows) {
      void this.#startFlush()
    }
  }

  #flushIfDue (): void {
    if (this.#batch.length > 0 &&
      Date.now() - this.#batchStartedAt >= this.#options.settings.maxBatchMs) {
      void this.#startFlush()
    }
  }

  #startFlush (): Promise<void> {
    if (this.#flushing === undefined) {
      this.#stream?.pause()
      this.#flushing = this.#flush()
        .catch((error: Error) => {
          if (!this.#abort.signal.aborted) {
            this.#failure = error
            this.telemetry.record('ingest_failed', 'error', { error: error.message })
            this.#onFailure(error)
          }
        })
        .finally(() => {
          this.#flushing = undefined
          if (!this.#abort.signal.aborted && this.#failure === undefined) {
            this.#stream?.resume()
          }
        })
    }
    return this.#flushing
  }

  async #flush (): Promise<void> {
    const batch = this.#batch
    if (batch.length === 0) {
      return
    }
    this.#batch = []

    const started = Date.now()
    const result = await this.#writer.write(batch.map(coordinates))
    await this.#commit(batch)
    this.telemetry.count('batches_committed')
    this.#options.log.debug({ messages: batch.length, ...result, ms: Date.now() - started },
      'batch committed')
  }

  /**
   * Commits, per partition, the offset after the last message of the batch. Messages of a
   * partition arrive in offset order and every one of them is now stored or dead-lettered, so
   * that offset is a watermark with nothing missing below it.
   */
  async #commit (batch: KafkaMessage[]): Promise<void> {
    const last = new Map<string, KafkaMessage>()
    for (const message of batch) {
      const key = `${message.topic}:${message.partition}`
      const seen = last.get(key)
      if (seen === undefined || seen.offset < message.offset) {
        last.set(key, message)
      }
    }
    for (const message of last.values()) {
      try {
        await message.commit()
      } catch (error) {
        // After a rebalance the partition may belong to another member, which resumes from the
        // last committed offset; the rows it writes again replace these ones.
        this.telemetry.record('commit_failed', 'warn', {
          topic: message.topic, partition: message.partition, error: (error as Error).message
        })
      }
    }
  }
}

function coordinates (message: KafkaMessage): MessageCoordinates {
  return {
    topic: message.topic,
    partition: message.partition,
    offset: message.offset,
    timestamp: Number(message.timestamp),
    key: message.key,
    value: message.value
  }
}
