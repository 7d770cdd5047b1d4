import { ProduceAcks, Producer } from '@platformatic/kafka'
import type { KafkaConnection } from '../kafka/options.ts'

interface DeadLetterRow {
  topic: string
  partition: number
  offset: number
  key_base64: string
  value_base64: string
  reason: string
  detail: string
}

/**
 * The dead-letter topic: each message that could not be stored, with its original key and
 * value, and headers saying where it came from and why it was refused.
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
      serializers: {
        headerKey: (key?: string) => (key === undefined ? undefined : Buffer.from(key)),
        headerValue: (value?: string) => (value === undefined ? undefined : Buffer.from(value))
      }
    })
  }

  async publish (rows: object[]): Promise<void> {
    await this.#producer.send({
      messages: (rows as DeadLetterRow[]).map((row) => ({
        topic: this.#topic,
        key: row.key_base64 === '' ? undefined : Buffer.from(row.key_base64, 'base64'),
        value: Buffer.from(row.value_base64, 'base64'),
        headers: {
          'vitals-reason': row.reason,
          'vitals-detail': row.detail,
          'vitals-source': `${row.topic}/${row.partition}/${row.offset}`
        }
      }))
    })
  }

  async close (): Promise<void> {
    await this.#producer.close(true)
  }
}
