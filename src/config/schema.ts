import { Type, type Static } from '@sinclair/typebox'

/**
 * Every setting Vitals reads, with its type and bounds. Units are in the names (`Ms`, `Bytes`).
 * Empty Kafka brokers or ClickHouse URL mean "use the embedded local stack".
 */

const Int = (minimum: number, maximum: number, description: string) =>
  Type.Integer({ minimum, maximum, description })
const Closed = <T extends Parameters<typeof Type.Object>[0]>(properties: T) =>
  Type.Object(properties, { additionalProperties: false })

export const Sasl = Closed({
  mechanism: Type.Union([Type.Literal('PLAIN'), Type.Literal('SCRAM-SHA-256'),
    Type.Literal('SCRAM-SHA-512')]),
  username: Type.String({ minLength: 1 }),
  password: Type.String()
})

export const Tls = Closed({
  enabled: Type.Boolean(),
  caFile: Type.Optional(Type.String({
    description: 'PEM file of the CA that signed the server certificate; the system CAs if unset'
  })),
  rejectUnauthorized: Type.Optional(Type.Boolean({ description: 'true unless set to false' }))
})

export const SettingsSchema = Closed({
  kafka: Closed({
    brokers: Type.Array(Type.String({ pattern: '^[^\\s:]+:\\d{1,5}$', description: 'host:port' }),
      { description: 'host:port list; empty starts the local stack' }),
    topic: Type.String({ minLength: 1, maxLength: 249, pattern: '^[A-Za-z0-9._-]+$' }),
    deadLetterTopic: Type.String({ minLength: 1, maxLength: 249, pattern: '^[A-Za-z0-9._-]+$' }),
    // Event ids hold the partition in 13 bits (src/ingest/rows.ts).
    partitions: Int(1, 8192, 'partition count when the topic is created'),
    clientId: Type.String({ minLength: 1 }),
    sasl: Type.Optional(Sasl),
    tls: Type.Optional(Tls)
  }),
  clickhouse: Closed({
    url: Type.String({ description: 'http(s)://host:port; empty uses the local stack' }),
    user: Type.String(),
    password: Type.String(),
    caFile: Type.Optional(Type.String({
      description: 'PEM file of the CA that signed the server certificate, for https:// URLs; ' +
        'the system CAs if unset'
    })),
    database: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }),
    requestTimeoutMs: Int(1000, 600_000, 'one query or insert')
  }),
  agent: Closed({
    intervalMs: Int(1000, 3_600_000, 'time between samples, aligned to the wall clock'),
    hostId: Type.String({ maxLength: 128, description: 'overrides the machine id' }),
    tags: Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_.-]*$', maxLength: 128 }),
      Type.String({ maxLength: 1024 })),
    partition: Int(-1, 8191, 'explicit partition, or -1 to let the key choose'),
    bufferMaxSamples: Int(1, 1_000_000, 'samples kept while Kafka is unreachable'),
    compression: Type.Union([Type.Literal('none'), Type.Literal('gzip'), Type.Literal('snappy'),
      Type.Literal('lz4')])
  }),
  ingest: Closed({
    groupId: Type.String({ minLength: 1 }),
    maxBatchRows: Int(1, 1_000_000, 'events per ClickHouse insert'),
    maxBatchMs: Int(10, 600_000, 'longest wait before a partial batch is written'),
    maxMessageBytes: Int(1024, 100 * 1024 * 1024, 'larger messages are dead-lettered'),
    maxClockSkewMs: Int(1000, 86_400_000, 'how far in the future a sample time may be'),
    maxSampleAgeMs: Int(60_000, 3650 * 86_400_000, 'how far in the past a sample time may be'),
    startWaitMs: Int(0, 86_400_000, 'how long to wait at start for a ClickHouse or Kafka not reachable yet')
  }),
  stack: Closed({
    home: Type.String({ minLength: 1, description: 'folder of the local stack' })
  }),
  log: Closed({
    level: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']
      .map((level) => Type.Literal(level)))
  })
})

export type Settings = Static<typeof SettingsSchema>
