import type { Settings } from '../config/index.ts'
import { readCaFile } from '../config/ca-file.ts'

type Mechanism = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'

/**
 * Connection options shared by the producer, the consumer and the admin client, in the shape
 * @platformatic/kafka takes them: `sasl` for the login, `tls` handed to Node's `tls.connect`.
 */
export interface KafkaConnection {
  clientId: string
  bootstrapBrokers: string[]
  /** The password is behind a function, so logging or serializing the options never shows it. */
  sasl?: { mechanism: Mechanism, username: string, password: () => string }
  tls?: { ca?: Buffer, rejectUnauthorized: boolean }
}

export function kafkaConnection (kafka: Settings['kafka'], role: string): KafkaConnection {
  const connection: KafkaConnection = {
    clientId: `${kafka.clientId}-${role}`,
    bootstrapBrokers: [...kafka.brokers]
  }
  if (kafka.sasl !== undefined) {
    const { mechanism, username, password } = kafka.sasl
    connection.sasl = { mechanism, username, password: () => password }
  }
  if (kafka.tls?.enabled === true) {
    // The broker's name is checked against its certificate as Node does it: an address such as
    // 127.0.0.1 must be an IP entry of the certificate's subject alternative names.
    connection.tls = {
      ca: kafka.tls.caFile ? readCaFile('kafka.tls.caFile', kafka.tls.caFile) : undefined,
      rejectUnauthorized: kafka.tls.rejectUnauthorized ?? true
    }
  }
  return connection
}

