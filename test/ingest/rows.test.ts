import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createFleet } from '../../src/agent/simulate.ts'
import { encodeEvent, type SampleEvent } from '../../src/event/index.ts'
import { emptyRows, eventId, MAX_PARTITIONS, OFFSET_BITS, RowBuilder, type MessageCoordinates }
  from '../../src/ingest/rows.ts'
import { legacyFeatures, modernFeatures } from '../../src/store/features.ts'

const intervalMs = 10_000
const start = 1_767_225_600_000
const maxOffset = 2n ** BigInt(OFFSET_BITS) - 1n

/** Two samples of one simulated host: the second has network rates. */
function samples (): [SampleEvent, SampleEvent] {
  const [host] = createFleet(1, { seed: 21, intervalMs })
  return [host.sample(start + 250), host.sample(start + intervalMs + 678)]
}

function coordinates (event: SampleEvent, partition = 2, offset = 12345n): MessageCoordinates {
  return {
    topic: 'vitals-metrics',
    partition,
    offset,
    timestamp: event.time + 1234,
    key: Buffer.from(event.host.id),
    value: encodeEvent(event)
  }
}

type Row = Record<string, unknown>

describe('eventId', () => {
  it('ids should be unique across partitions and offsets, even at the edges', () => {
    const partitions = [0, 1, 2, 7, 100, MAX_PARTITIONS - 1]
    const offsets = [0n, 1n, 2n, 1000n, 2n ** 32n, maxOffset - 1n, maxOffset]
    const ids = new Set<number>()
    for (const partition of partitions) {
      for (const offset of offsets) ids.add(eventId(partition, offset))
    }
    assert.equal(ids.size, partitions.length * offsets.length)
  })

  it('ids should increase with the offset within a partition', () => {
    for (const partition of [0, 3, MAX_PARTITIONS - 1]) {
      let previous = -1
      for (const offset of [0n, 1n, 2n, 999n, 1000n, 2n ** 33n, maxOffset]) {
        const id = eventId(partition, offset)
        assert.ok(id > previous, `partition ${partition} offset ${offset}`)
        previous = id
      }
    }
  })

  it('the same partition and offset should always give the same id', () => {
    assert.equal(eventId(5, 424242n), eventId(5, 424242n))
    assert.notEqual(eventId(5, 424242n), eventId(4, 424242n))
  })

  it('every id should be an exact JavaScript integer', () => {
    const largest = eventId(MAX_PARTITIONS - 1, maxOffset)
    assert.ok(Number.isSafeInteger(largest), String(largest))
    assert.equal(BigInt(largest), (BigInt(MAX_PARTITIONS - 1) << BigInt(OFFSET_BITS)) + maxOffset)
  })

  it('a partition or offset outside the id space should be a RangeError', () => {
    assert.throws(() => eventId(-1, 0n), RangeError)
    assert.throws(() => eventId(MAX_PARTITIONS, 0n), RangeError)
    assert.throws(() => eventId(0, -1n), RangeError)
    assert.throws(() => eventId(0, maxOffset + 1n), RangeError)
  })
})

describe('RowBuilder', () => {
  it('an event should map to one events row and one host_samples row with its fields', () => {
    const [, event] = samples()
    const message = coordinates(event)
    const rows = emptyRows()
    const now = start + 99_999
    new RowBuilder(modernFeatures).addEvent(rows, message, event, now)
    const id = eventId(message.partition, message.offset)

    assert.deepEqual(rows.events, [{
      id,
      topic: 'vitals-metrics',
      partition: 2,
      offset: 12345,
      timestamp: message.timestamp / 1000,
      key: event.host.id,
      host_id: event.host.id,
      message: JSON.stringify(event),
      ingested_at: Math.floor(now / 1000)
    }])

    const cpu = event.cpu as NonNullable<SampleEvent['cpu']>
    const memory = event.memory as NonNullable<SampleEvent['memory']>
    const uptime = event.uptime as NonNullable<SampleEvent['uptime']>
    assert.equal(rows.host_samples.length, 1)
    const row = rows.host_samples[0] as Row
    const expected: Row = {
      host_id: event.host.id,
      time: event.time / 1000,
      seq: event.seq,
      agent_started_at: event.agentStartedAt,
      boot_id: event.bootId,
      hostname: event.host.name,
      interval_ms: intervalMs,
      cpu_cores: cpu.cores,
      cpu_user: cpu.total.user,
      cpu_system: cpu.total.system,
      cpu_idle: cpu.total.idle,
      cpu_iowait: cpu.total.iowait,
      cpu_steal: cpu.total.steal,
      cpu_busy: cpu.total.busy,
      cpu_core_busy: cpu.perCore.map((core) => core.busy),
      load1: cpu.load1,
      load15: cpu.load15,
      mem_total_bytes: memory.totalBytes,
      mem_available_bytes: memory.availableBytes,
      mem_used_bytes: memory.usedBytes,
      mem_cached_bytes: memory.cachedBytes,
      swap_total_bytes: memory.swapTotalBytes,
      swap_used_bytes: memory.swapUsedBytes,
      uptime_seconds: uptime.uptimeSeconds,
      boot_time: uptime.bootTime / 1000,
      failed_families: [],
      event_id: id
    }
    for (const [column, value] of Object.entries(expected)) {
      assert.deepEqual(row[column], value, column)
    }
  })

  it('filesystems and interfaces should map to one row each, with used share and rates', () => {
    const [first, second] = samples()
    const builder = new RowBuilder(modernFeatures)
    const rows = emptyRows()
    builder.addEvent(rows, coordinates(first, 0, 1n), first)
    builder.addEvent(rows, coordinates(second, 0, 2n), second)

    const filesystems = [...(first.filesystems ?? []), ...(second.filesystems ?? [])]
    assert.ok(filesystems.length > 0)
    assert.equal(rows.filesystem_samples.length, filesystems.length)
    rows.filesystem_samples.forEach((row, i) => {
      const fs = filesystems[i]
      const r = row as Row
      assert.equal(r.mount, fs.mount)
      assert.equal(r.device, fs.device)
      assert.equal(r.fs_type, fs.fsType)
      assert.equal(r.size_bytes, fs.sizeBytes)
      assert.equal(r.inodes_free, fs.inodesFree)
      // as df shows it: blocks reserved for root count as neither used nor available
      const pct = r.used_pct as number
      assert.ok(Math.abs(pct - fs.usedBytes / (fs.usedBytes + fs.availableBytes) * 100) < 1e-9)
      assert.ok(pct >= 0 && pct <= 100)
    })

    const nics = second.network ?? []
    const secondRows = rows.interface_samples.slice((first.network ?? []).length) as Row[]
    assert.equal(secondRows.length, nics.length)
    secondRows.forEach((row, i) => {
      const nic = nics[i]
      assert.equal(row.interface, nic.name)
      assert.equal(row.rx_bytes, nic.rxBytes)
      assert.equal(row.tx_drops, nic.txDrops)
      assert.equal(row.rx_bytes_per_sec, nic.perSecond?.rxBytes)
      assert.equal(row.tx_packets_per_sec, nic.perSecond?.txPackets)
      assert.equal(row.event_id, eventId(0, 2n))
    })
    // the first sample has no earlier reading, so no rates
    for (const row of rows.interface_samples.slice(0, (first.network ?? []).length) as Row[]) {
      assert.equal(row.rx_bytes_per_sec, null)
      assert.equal(row.tx_drops_per_sec, null)
    }
  })

  it('a failed family should give NULL columns and its name in failed_families', () => {
    const [, event] = samples()
    delete event.cpu
    delete event.memory
    delete event.filesystems
    event.failures = [
      { family: 'cpu', error: 'cannot read /proc/stat' },
      { family: 'memory', error: 'cannot read /proc/meminfo' },
      { family: 'filesystems', error: 'statfs timed out' }
    ]
    const rows = emptyRows()
    new RowBuilder(modernFeatures).addEvent(rows, coordinates(event), event)

    const row = rows.host_samples[0] as Row
    assert.deepEqual(row.failed_families, ['cpu', 'memory', 'filesystems'])
    for (const column of ['cpu_cores', 'cpu_user', 'cpu_busy', 'load1', 'load5', 'load15',
      'mem_total_bytes', 'mem_used_bytes', 'swap_used_bytes']) {
      assert.equal(row[column], null, column)
    }
    assert.deepEqual(row.cpu_core_busy, [])
    assert.equal(row.uptime_seconds, event.uptime?.uptimeSeconds, 'uptime still collected')
    assert.equal(rows.filesystem_samples.length, 0)
    assert.equal(rows.interface_samples.length, event.network?.length)
  })

  it('legacy time columns should be whole seconds', () => {
    const [event] = samples()
    assert.notEqual(event.time % 1000, 0, 'the sample should have milliseconds')
    const message = coordinates(event)
    const rows = emptyRows()
    new RowBuilder(legacyFeatures).addEvent(rows, message, event)

    assert.equal((rows.host_samples[0] as Row).time, Math.floor(event.time / 1000))
    assert.equal((rows.events[0] as Row).timestamp, Math.floor(message.timestamp / 1000))
    for (const row of [...rows.filesystem_samples, ...rows.interface_samples] as Row[]) {
      assert.ok(Number.isInteger(row.time), `${String(row.time)}`)
    }
  })

  it('modern time columns should be fractional seconds keeping the milliseconds', () => {
    const [event] = samples()
    const message = coordinates(event)
    const rows = emptyRows()
    new RowBuilder(modernFeatures).addEvent(rows, message, event)

    const time = (rows.host_samples[0] as Row).time as number
    assert.ok(!Number.isInteger(time))
    assert.equal(Math.round(time * 1000), event.time)
    assert.equal(String(time), (event.time / 1000).toFixed(3).replace(/0+$/, ''))
    assert.equal(Math.round(((rows.events[0] as Row).timestamp as number) * 1000), message.timestamp)
    for (const row of [...rows.filesystem_samples, ...rows.interface_samples] as Row[]) {
      assert.equal(row.time, time)
    }
  })

  it('a dead letter should keep the raw bytes as base64 and say why', () => {
    const value = Buffer.from([0xff, 0xfe, 0x00, 0x7b])
    const rows = emptyRows()
    const now = start + 5000
    new RowBuilder(modernFeatures).addDeadLetter(rows, {
      topic: 'vitals-metrics',
      partition: 1,
      offset: 77n,
      timestamp: start + 999,
      key: undefined,
      value
    }, 'not_utf8', 'the value is not valid UTF-8', now)

    assert.deepEqual(rows.dead_letters, [{
      id: eventId(1, 77n),
      topic: 'vitals-metrics',
      partition: 1,
      offset: 77,
      timestamp: Math.floor((start + 999) / 1000),
      key_base64: '',
      value_base64: value.toString('base64'),
      value_bytes: 4,
      reason: 'not_utf8',
      detail: 'the value is not valid UTF-8',
      ingested_at: Math.floor(now / 1000)
    }])
    assert.deepEqual(Buffer.from((rows.dead_letters[0] as Row).value_base64 as string, 'base64'),
      value)
  })

  it('a message outside the id space should not add half its rows', () => {
    const [event] = samples()
    const rows = emptyRows()
    assert.throws(() => new RowBuilder(modernFeatures)
      .addEvent(rows, coordinates(event, MAX_PARTITIONS, 0n), event), RangeError)
    assert.deepEqual(rows, emptyRows())
  })
})
