import { compatibilityPartitioner, ProduceAcks, Producer } from '@platformatic/kafka'
import type { Settings } from '../config/index.ts'
import { encodeEvent, type SampleEvent } from '../event/index.ts'
import { chunkBySize, maxChunkBytes } from '../kafka/chunks.ts'
import type { KafkaConnection } from '../kafka/options.ts'
import type { Logger } from '../log.ts'
import { Telemetry } from '../telemetry.ts'

export interface PublisherOptions {
  connection: KafkaConnection
  topic: string
  /** An explicit partition for every event, or -1 to let the host key choose. */
  partition: number
  compression: Settings['agent']['compression']
  bufferMaxSamples: number
  log: Logger
  /** Events sent in one produce request. */
  maxSendBatch?: number
}

const retryMinMs = 500
const retryMaxMs = 30_000

/**
 * Delivers events to Kafka in the order they were taken. While Kafka cannot be reached the
 * events wait in a bounded buffer; when it is full the oldest are dropped and counted, so the
 * agent's memory stays bounded however long the outage lasts.
 */
export class Publisher {
  readonly telemetry: Telemetry
  readonly #options: PublisherOptions
  readonly #producer: Producer<string, Buffer, string, string>
  readonly #buffer: SampleEvent[] = []
  #wake: (() => void) | undefined
  #loop: Promise<void> | undefined
  #stopping = false
  #failingSince: number | undefined

  constructor (options: PublisherOptions) {
    this.#options = options
    this.telemetry = new Telemetry(options.log)
    this.#producer = new Producer({
      ...options.connection,
      idempotent: true,
      acks: ProduceAcks.ALL,
      compression: options.compression,
      // Same partition for the same key as the Java client, so every producer of a host agrees.
      partitioner: compatibilityPartitioner,
      retries: 2,
      // The client's default refreshes cluster metadata every 5 s, which at one sample every
      // 10 s is a metadata request per send. Leader changes are still picked up at once: a
      // send to a stale leader fails with an error that forces a refresh.
      metadataMaxAge: 300_000,
      serializers: {
        key: (key?: string) => (key === undefined ? undefined : Buffer.from(key)),
        headerKey: (key?: string) => (key === undefined ? undefined : Buffer.from(key)),
        headerValue: (value?: string) => (value === undefined ? undefined : Buffer.from(value))
      }
    })
  }

  get buffered (): number {
    return this.#buffer.length
  }

  start (): void {
    this.#loop ??= this.#run()
  }

  publish (event: SampleEvent): void {
    this.#buffer.push(event)
    if (this.#buffer.length > this.#options.bufferMaxSamples) {
      const dropped = this.#buffer.shift()
      this.telemetry.record('samples_dropped', 'warn', {
        seq: dropped?.seq, buffered: this.#buffer.length, limit: this.#options.bufferMaxSamples
      })
    }
    this.#wake?.()
  }

  /**
   * Sends what is buffered, for at most `timeoutMs`, then closes the producer. Returns how many
   * events could not be delivered in time.
   */
  async stop (timeoutMs = 10_000): Promise<number> {
    this.#stopping = true
    this.#wake?.()
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref())
    await Promise.race([this.#loop, deadline])
    const undelivered = this.#buffer.length
    if (undelivered > 0) {
      this.telemetry.record('samples_undelivered_at_stop', 'error', { undelivered })
    }
    this.#buffer.length = 0
    try {
      await this.#producer.close(true)
    } catch (error) {
      this.#options.log.debug({ error }, 'producer close failed')
    }
    return undelivered
  }

  async #run (): Promise<void> {
    let delay = retryMinMs
    while (true) {
      if (this.#buffer.length === 0) {
        if (this.#stopping) {
          return
        }
        await new Promise<void>((resolve) => { this.#wake = resolve })
        this.#wake = undefined
        continue
      }

      const [batch] = chunkBySize(this.#buffer.slice(0, this.#options.maxSendBatch ?? 500),
        (event) => encoded(event).length, maxChunkBytes)
      try {
        await this.#send(batch)
        this.#buffer.splice(0, batch.length)
        this.telemetry.count('samples_sent', batch.length)
        if (this.#failingSince !== undefined) {
          this.telemetry.record('kafka_reachable_again', 'info', {
            outageMs: Date.now() - this.#failingSince, buffered: this.#buffer.length
          })
          this.#failingSince = undefined
        }
        delay = retryMinMs
      } catch (error) {
        if (this.#failingSince === undefined) {
          this.#failingSince = Date.now()
          this.telemetry.record('kafka_unreachable', 'warn', {
            error: (error as Error).message, buffered: this.#buffer.length
          })
        } else {
          this.telemetry.count('send_retries')
        }
        if (this.#stopping) {
          return
        }
        await new Promise((resolve) => setTimeout(resolve, delay))
        delay = Math.min(delay * 2, retryMaxMs)
      }
    }
  }

  async #send (batch: SampleEvent[]): Promise<void> {
    const { topic, partition } = this.#options
    await this.#producer.send({
      messages: batch.map((event) => ({
        topic,
        key: event.host.id,
        value: encoded(event),
        timestamp: BigInt(event.time),
        headers: { 'vitals-schema': String(event.version) },
        ...(partition >= 0 ? { partition } : {})
      }))
    })
  }
}

/** Each event is encoded once, however often its send is retried. */
const encodings = new WeakMap<SampleEvent, Buffer>()

function encoded (event: SampleEvent): Buffer {
  let bytes = encodings.get(event)
  if (bytes === undefined) {
    bytes = encodeEvent(event)
    encodings.set(event, bytes)
  }
  return bytes
}
