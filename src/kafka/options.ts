import { readFileSync } from 'node:fs'
import type { Settings } from '../config/index.ts'
import { ConfigError } from '../errors.ts'

/** Connection options shared by the producer, the consumer and the admin client. */
export interface KafkaConnection {
  clientId: string
  bootstrapBrokers: string[]
  sasl?: { mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512', username: string, password: string }
  tls?: { ca?: Buffer, rejectUnauthorized: boolean }
}

export function kafkaConnection (kafka: Settings['kafka'], role: string): KafkaConnection {
  const connection: KafkaConnection = {
    clientId: `${kafka.clientId}-${role}`,
    bootstrapBrokers: [...kafka.brokers]
  }
  if (kafka.sasl !== undefined) {
    connection.sasl = { ...kafka.sasl }
  }
  if (kafka.tls?.enabled === true) {
    let ca: Buffer | undefined
    if (kafka.tls.caFile !== undefined && kafka.tls.caFile !== '') {
      try {
        ca = readFileSync(kafka.tls.caFile)
      } catch (error) {
        throw new ConfigError('kafka.tls.caFile', `cannot read ${kafka.tls.caFile}: ${(error as Error).message}`)
      }
    }
    connection.tls = { ca, rejectUnauthorized: kafka.tls.rejectUnauthorized ?? true }
  }
  return connection
}
