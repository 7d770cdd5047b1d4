import type { SampleEvent } from '../event/index.ts'
import type { Features } from '../store/index.ts'

/**
 * Rows for the ClickHouse tables, built from a Kafka message and its decoded event.
 *
 * An event's id is its Kafka partition in the top bits and its offset in the low 40 bits: unique
 * per topic, increasing within a partition, the same every time a message is redelivered, and
 * below 2^53 so that it stays exact as a JavaScript number (partitions < 8192, offsets < 2^40).
 */
export const OFFSET_BITS = 40
export const MAX_PARTITIONS = 2 ** (53 - OFFSET_BITS)

export function eventId (partition: number, offset: bigint): number {
  if (partition < 0 || partition >= MAX_PARTITIONS || offset < 0n || offset >= 2n ** BigInt(OFFSET_BITS)) {
    throw new RangeError(`partition ${partition} offset ${offset} is outside the event id space`)
  }
  return partition * 2 ** OFFSET_BITS + Number(offset)
}

export interface MessageCoordinates {
  topic: string
  partition: number
  offset: bigint
  /** Kafka message timestamp, Unix ms. */
  timestamp: number
  key: Buffer | undefined
  value: Buffer | undefined
}

export interface Rows {
  events: object[]
  host_samples: object[]
  filesystem_samples: object[]
  interface_samples: object[]
  dead_letters: object[]
}

export function emptyRows (): Rows {
  return { events: [], host_samples: [], filesystem_samples: [], interface_samples: [], dead_letters: [] }
}

/** Converts Unix ms to what a time column accepts: fractional seconds, or whole ones. */
export function timeValue (features: Features, ms: number): number {
  return features.dateTime64 ? ms / 1000 : Math.floor(ms / 1000)
}

export class RowBuilder {
  readonly #features: Features

  constructor (features: Features) {
    this.#features = features
  }

  addEvent (rows: Rows, message: MessageCoordinates, event: SampleEvent, now = Date.now()): void {
    const id = eventId(message.partition, message.offset)
    const time = timeValue(this.#features, event.time)
    const hostId = event.host.id

    rows.events.push({
      id,
      topic: message.topic,
      partition: message.partition,
      offset: Number(message.offset),
      timestamp: timeValue(this.#features, message.timestamp),
      key: message.key?.toString() ?? '',
      host_id: hostId,
      message: message.value?.toString() ?? '',
      ingested_at: Math.floor(now / 1000)
    })

    const { cpu, memory, uptime } = event
    rows.host_samples.push({
      host_id: hostId,
      time,
      seq: event.seq,
      agent_started_at: event.agentStartedAt,
      boot_id: event.bootId,
      hostname: event.host.name,
      interval_ms: event.intervalMs,
      cpu_cores: cpu?.cores ?? null,
      cpu_user: cpu?.total.user ?? null,
      cpu_nice: cpu?.total.nice ?? null,
      cpu_system: cpu?.total.system ?? null,
      cpu_idle: cpu?.total.idle ?? null,
      cpu_iowait: cpu?.total.iowait ?? null,
      cpu_irq: cpu?.total.irq ?? null,
      cpu_softirq: cpu?.total.softirq ?? null,
      cpu_steal: cpu?.total.steal ?? null,
      cpu_guest: cpu?.total.guest ?? null,
      cpu_busy: cpu?.total.busy ?? null,
      cpu_core_busy: cpu?.perCore.map((core) => core.busy) ?? [],
      load1: cpu?.load1 ?? null,
      load5: cpu?.load5 ?? null,
      load15: cpu?.load15 ?? null,
      mem_total_bytes: memory?.totalBytes ?? null,
      mem_available_bytes: memory?.availableBytes ?? null,
      mem_used_bytes: memory?.usedBytes ?? null,
      mem_free_bytes: memory?.freeBytes ?? null,
      mem_buffers_bytes: memory?.buffersBytes ?? null,
      mem_cached_bytes: memory?.cachedBytes ?? null,
      swap_total_bytes: memory?.swapTotalBytes ?? null,
      swap_used_bytes: memory?.swapUsedBytes ?? null,
      uptime_seconds: uptime?.uptimeSeconds ?? null,
      boot_time: uptime === undefined ? null : Math.floor(uptime.bootTime / 1000),
      failed_families: event.failures.map((failure) => failure.family),
      event_id: id
    })

    for (const fs of event.filesystems ?? []) {
      rows.filesystem_samples.push({
        host_id: hostId,
        mount: fs.mount,
        time,
        seq: event.seq,
        device: fs.device,
        fs_type: fs.fsType,
        size_bytes: fs.sizeBytes,
        used_bytes: fs.usedBytes,
        available_bytes: fs.availableBytes,
        used_pct: usedPercent(fs.usedBytes, fs.availableBytes),
        inodes_total: fs.inodesTotal,
        inodes_used: fs.inodesUsed,
        inodes_free: fs.inodesFree,
        event_id: id
      })
    }

    for (const nic of event.network ?? []) {
      const rate = nic.perSecond
      rows.interface_samples.push({
        host_id: hostId,
        interface: nic.name,
        time,
        seq: event.seq,
        rx_bytes: nic.rxBytes,
        tx_bytes: nic.txBytes,
        rx_packets: nic.rxPackets,
        tx_packets: nic.txPackets,
        rx_errors: nic.rxErrors,
        tx_errors: nic.txErrors,
        rx_drops: nic.rxDrops,
        tx_drops: nic.txDrops,
        rx_bytes_per_sec: rate?.rxBytes ?? null,
        tx_bytes_per_sec: rate?.txBytes ?? null,
        rx_packets_per_sec: rate?.rxPackets ?? null,
        tx_packets_per_sec: rate?.txPackets ?? null,
        rx_errors_per_sec: rate?.rxErrors ?? null,
        tx_errors_per_sec: rate?.txErrors ?? null,
        rx_drops_per_sec: rate?.rxDrops ?? null,
        tx_drops_per_sec: rate?.txDrops ?? null,
        event_id: id
      })
    }
  }

  addDeadLetter (rows: Rows, message: MessageCoordinates, reason: string, detail: string,
    now = Date.now()): void {
    rows.dead_letters.push({
      id: eventId(message.partition, message.offset),
      topic: message.topic,
      partition: message.partition,
      offset: Number(message.offset),
      timestamp: Math.floor(message.timestamp / 1000),
      key_base64: message.key?.toString('base64') ?? '',
      value_base64: message.value?.toString('base64') ?? '',
      value_bytes: message.value?.length ?? 0,
      reason,
      detail,
      ingested_at: Math.floor(now / 1000)
    })
  }
}

/**
 * Used share of the space an unprivileged user can have, as `df` reports it: blocks reserved
 * for root count as neither used nor available.
 */
function usedPercent (used: number, available: number): number {
  const usable = used + available
  return usable === 0 ? 0 : (used / usable) * 100
}
