import type { Features } from './features.ts'
import { identifier } from './sql.ts'

/**
 * The tables, written once for every server version. `t` holds the column types and clauses
 * that differ between an old server (18.16) and a current one; everything else is shared.
 */

export interface SchemaOptions {
  database: string
  /** Days a raw event is kept where the server supports TTL; 0 keeps them forever. */
  eventRetentionDays: number
  /** Days a typed sample row is kept where the server supports TTL; 0 keeps them forever. */
  sampleRetentionDays: number
}

interface Types {
  /** A sample time: milliseconds where the server has DateTime64. */
  time: string
  /** A repeated short label such as a host id or mount point. */
  label: string
  /** A monotonically increasing value: ids, counters, sequence numbers. */
  increasing: (type: string) => string
  /** A slowly varying measurement. */
  gauge: (type: string) => string
  /** Large text: raw messages. */
  blob: string
  ttl: (column: string, days: number) => string
}

export function columnTypes (features: Features): Types {
  const codec = (spec: string) => (features.codecs ? ` CODEC(${spec})` : '')
  return {
    time: (features.dateTime64 ? 'DateTime64(3)' : 'DateTime') + codec('DoubleDelta, ZSTD(1)'),
    label: features.lowCardinality ? 'LowCardinality(String)' : 'String',
    increasing: (type) => type + codec('DoubleDelta, ZSTD(1)'),
    gauge: (type) => type + codec(type.startsWith('Float') || type.includes('(Float')
      ? 'Gorilla, ZSTD(1)' : 'T64, ZSTD(1)'),
    blob: 'String' + codec('ZSTD(3)'),
    ttl: (column, days) => (features.ttl && days > 0
      ? `\nTTL toDateTime(${column}) + INTERVAL ${Math.trunc(days)} DAY` : '')
  }
}

export interface Migration {
  version: number
  name: string
  statements: (features: Features, options: SchemaOptions) => string[]
}

/** Applied in order, each once; every statement is also safe to run again. */
export const migrations: Migration[] = [
  {
    version: 1,
    name: 'events, typed sample tables and dead letters',
    statements: (features, options) => {
      const t = columnTypes(features)
      const db = identifier(options.database)
      const f32 = t.gauge('Float32')
      const nf32 = t.gauge('Nullable(Float32)')
      const nu64 = t.gauge('Nullable(UInt64)')
      const nf64 = t.gauge('Nullable(Float64)')
      const u64 = t.gauge('UInt64')
      const counter = t.increasing('UInt64')
      return [
        // Every message as received, keyed by an id made from its Kafka partition and offset, so
        // a redelivered message replaces its earlier copy instead of adding a row.
        `CREATE TABLE IF NOT EXISTS ${db}.events (
  id ${t.increasing('UInt64')},
  topic ${t.label},
  partition UInt32,
  offset ${t.increasing('UInt64')},
  timestamp ${t.time},
  key ${t.label},
  host_id ${t.label},
  message ${t.blob},
  ingested_at DateTime
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMMDD(timestamp)
ORDER BY id${t.ttl('timestamp', options.eventRetentionDays)}`,

        // One row per sample: the host-wide families. A family the agent failed to collect is
        // NULL, and its name is in failed_families.
        `CREATE TABLE IF NOT EXISTS ${db}.host_samples (
  host_id ${t.label},
  time ${t.time},
  seq ${t.increasing('UInt64')},
  agent_started_at UInt64,
  boot_id ${t.label},
  hostname ${t.label},
  interval_ms UInt32,
  cpu_cores Nullable(UInt16),
  cpu_user ${nf32},
  cpu_nice ${nf32},
  cpu_system ${nf32},
  cpu_idle ${nf32},
  cpu_iowait ${nf32},
  cpu_irq ${nf32},
  cpu_softirq ${nf32},
  cpu_steal ${nf32},
  cpu_guest ${nf32},
  cpu_busy ${nf32},
  cpu_core_busy Array(Float32),
  load1 ${nf32},
  load5 ${nf32},
  load15 ${nf32},
  mem_total_bytes ${nu64},
  mem_available_bytes ${nu64},
  mem_used_bytes ${nu64},
  mem_free_bytes ${nu64},
  mem_buffers_bytes ${nu64},
  mem_cached_bytes ${nu64},
  swap_total_bytes ${nu64},
  swap_used_bytes ${nu64},
  uptime_seconds ${nf64},
  boot_time Nullable(DateTime),
  failed_families Array(String),
  event_id UInt64
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMMDD(time)
ORDER BY (host_id, time, seq)${t.ttl('time', options.sampleRetentionDays)}`,

        `CREATE TABLE IF NOT EXISTS ${db}.filesystem_samples (
  host_id ${t.label},
  mount ${t.label},
  time ${t.time},
  seq UInt64,
  device ${t.label},
  fs_type ${t.label},
  size_bytes ${u64},
  used_bytes ${u64},
  available_bytes ${u64},
  used_pct ${f32},
  inodes_total ${u64},
  inodes_used ${u64},
  inodes_free ${u64},
  event_id UInt64
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMMDD(time)
ORDER BY (host_id, mount, time)${t.ttl('time', options.sampleRetentionDays)}`,

        `CREATE TABLE IF NOT EXISTS ${db}.interface_samples (
  host_id ${t.label},
  interface ${t.label},
  time ${t.time},
  seq UInt64,
  rx_bytes ${counter},
  tx_bytes ${counter},
  rx_packets ${counter},
  tx_packets ${counter},
  rx_errors ${counter},
  tx_errors ${counter},
  rx_drops ${counter},
  tx_drops ${counter},
  rx_bytes_per_sec ${nf64},
  tx_bytes_per_sec ${nf64},
  rx_packets_per_sec ${nf64},
  tx_packets_per_sec ${nf64},
  rx_errors_per_sec ${nf64},
  tx_errors_per_sec ${nf64},
  rx_drops_per_sec ${nf64},
  tx_drops_per_sec ${nf64},
  event_id UInt64
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMMDD(time)
ORDER BY (host_id, interface, time)${t.ttl('time', options.sampleRetentionDays)}`,

        // Messages that could not be stored, with the reason. The raw value is base64 so that
        // bytes that are not UTF-8 survive the trip; the id matches the events table's scheme.
        `CREATE TABLE IF NOT EXISTS ${db}.dead_letters (
  id UInt64,
  topic ${t.label},
  partition UInt32,
  offset UInt64,
  timestamp DateTime,
  key_base64 String,
  value_base64 ${t.blob},
  value_bytes UInt32,
  reason ${t.label},
  detail String,
  ingested_at DateTime
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY id`
      ]
    }
  }
]
