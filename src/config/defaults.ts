import { homedir } from 'node:os'
import { join } from 'node:path'
import type { Settings } from './schema.ts'

export function vitalsHome (): string {
  return process.env.VITALS_HOME ?? join(homedir(), '.vitals')
}

export function defaultSettings (): Settings {
  return {
    kafka: {
      brokers: [],
      topic: 'vitals-metrics',
      deadLetterTopic: 'vitals-metrics-dlq',
      partitions: 3,
      clientId: 'vitals'
    },
    clickhouse: {
      url: '',
      user: 'default',
      password: '',
      database: 'vitals',
      requestTimeoutMs: 30_000
    },
    agent: {
      intervalMs: 10_000,
      hostId: '',
      tags: {},
      partition: -1,
      // A day of samples at the default interval.
      bufferMaxSamples: 8640,
      compression: 'gzip'
    },
    ingest: {
      groupId: 'vitals-ingest',
      maxBatchRows: 5000,
      maxBatchMs: 1000,
      maxMessageBytes: 1024 * 1024,
      maxClockSkewMs: 5 * 60_000,
      maxSampleAgeMs: 30 * 86_400_000,
      startWaitMs: 60_000
    },
    stack: {
      home: join(vitalsHome(), 'stack')
    },
    log: {
      level: 'info'
    }
  }
}
