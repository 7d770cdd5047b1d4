import { ProduceAcks, Producer } from '@platformatic/kafka'
import { chunkBySize } from '../kafka/chunks.ts'
import { isMessageTooLarge } from '../kafka/errors.ts'
import type { KafkaConnection } from '../kafka/options.ts'

interface DeadLetterRow {
  topic: string
  partition: number
  offset: number
  key_base64: string
  value_base64: string
  value_bytes: number
  reason: string
  detail: string
}

interface Outgoing {
  topic: string
  key?: Buffer
  value: Buffer
  headers: Record<string, string>
}

/**
 * The dead-letter topic: each message that could not be stored, with its original key and
 * value, and headers saying where it came from and why it was refused. A value too large for
 * the topic is sent without it (header `vitals-truncated`); the dead-letter table keeps it whole.
 */
export class DeadLetterSink {
  readonly #topic: string
  readonly #producer: Producer<Buffer, Buffer, string, string>

  constructor (connection: KafkaConnection, topic: string) {
    this.#topic = topic
    this.#producer = new Producer({
      ...connection,
      clientId: `${connection.clientId}-dlq`,
      idempotent: true,
      acks: ProduceAcks.ALL,
      metadataMaxAge: 300_000,
      serializers: {
        headerKey: (key?: string) => (key === undefined ? undefined : Buffer.from(key)),
        headerValue: (value?: string) => (value === undefined ? undefined : Buffer.from(value))
      }
    })
  }

  async publish (rows: object[]): Promise<void> {
    const messages = (rows as DeadLetterRow[]).map((row): Outgoing => ({
      topic: this.#topic,
      key: row.key_base64 === '' ? undefined : Buffer.from(row.key_base64, 'base64'),
      value: Buffer.from(row.value_base64, 'base64'),
      headers: {
        'vitals-reason': row.reason,
        'vitals-detail': row.detail,
        'vitals-source': `${row.topic}/${row.partition}/${row.offset}`
      }
    }))
    const size = (message: Outgoing) => message.value.length + (message.key?.length ?? 0) + 1024
    for (const chunk of chunkBySize(messages, size)) {
      await this.#send(chunk)
    }
  }

  async #send (chunk: Outgoing[]): Promise<void> {
    try {
      await this.#producer.send({ messages: chunk })
    } catch (error) {
      if (!isMessageTooLarge(error)) throw error
      if (chunk.length > 1) {
        for (const message of chunk) await this.#send([message])
        return
      }
      const [message] = chunk
      await this.#producer.send({
        messages: [{
          ...message,
          value: Buffer.alloc(0),
          headers: { ...message.headers, 'vitals-truncated': String(message.value.length) }
        }]
      })
    }
  }

  async close (): Promise<void> {
    await this.#producer.close(true)
  }
}
