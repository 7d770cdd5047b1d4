import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { after, before, describe, it } from 'node:test'
import { Consumer, Producer } from '@platformatic/kafka'
import { startAgent } from '../../src/agent/agent.ts'
import { Publisher } from '../../src/agent/publisher.ts'
import { createFleet } from '../../src/agent/simulate.ts'
import { startIngest } from '../../src/cli/commands/ingest.ts'
import type { Settings } from '../../src/config/index.ts'
import type { SampleEvent } from '../../src/event/index.ts'
import type { Ingest } from '../../src/ingest/index.ts'
import { kafkaConnection } from '../../src/kafka/options.ts'
import { componentLogger } from '../../src/log.ts'
import { Store } from '../../src/store/index.ts'
import { eventually, isolatedSettings } from '../helpers/stack.ts'

const log = componentLogger('test')

describe('agent → Kafka → ingest → ClickHouse', { timeout: 120_000 }, () => {
  let settings: Settings
  let store: Store
  let ingest: Ingest
  let ingestStore: Store

  const count = async (sql: string, params: Record<string, string> = {}): Promise<number> =>
    Number((await store.query<{ n: string }>(sql, params))[0].n)

  before(async () => {
    settings = await isolatedSettings((s) => { s.agent.intervalMs = 1000 })
    ;({ ingest, store: ingestStore } = await startIngest(settings, log))
    store = await Store.connect(settings.clickhouse)
  })

  after(async () => {
    await ingest?.stop()
    await ingestStore?.close()
    if (store !== undefined) {
      await store.command(`DROP DATABASE IF EXISTS ${settings.clickhouse.database}`)
      await store.close()
    }
  })

  it('samples of this machine should reach every table with the values the agent read', async () => {
    const taken: SampleEvent[] = []
    const agent = await startAgent(settings, log, (event) => taken.push(event))
    await eventually(async () => taken.length >= 3, 15_000)
    assert.equal(await agent.stop(), 0, 'every sample should be delivered at stop')

    const db = settings.clickhouse.database
    const hostId = taken[0].host.id
    // The raw events are inserted after the sample rows of the same batch: wait for them.
    assert.ok(await eventually(async () =>
      (await count(`SELECT count() AS n FROM ${db}.events FINAL`)) === taken.length))
    assert.equal(await count(`SELECT count() AS n FROM ${db}.host_samples FINAL`), taken.length)

    const rows = await store.query<{ seq: number, mem_total_bytes: number, boot_time: number,
      failed: string[] }>(`SELECT seq, mem_total_bytes, toUnixTimestamp(boot_time) AS boot_time,
      failed_families AS failed FROM ${db}.host_samples FINAL WHERE host_id = {host:String}
      ORDER BY seq`, { host: hostId })
    assert.deepEqual(rows.map((row) => Number(row.seq)), taken.map((event) => event.seq))
    for (const [index, row] of rows.entries()) {
      const event = taken[index]
      assert.equal(Number(row.mem_total_bytes), event.memory?.totalBytes)
      assert.equal(Number(row.boot_time), Math.floor((event.uptime?.bootTime ?? 0) / 1000))
      assert.deepEqual(row.failed, event.failures.map((failure) => failure.family))
    }

    const last = taken[taken.length - 1]
    const mounts = await store.query<{ mount: string, size: string }>(`SELECT mount,
      toString(size_bytes) AS size FROM ${db}.filesystem_samples FINAL
      WHERE host_id = {host:String} AND seq = {seq:UInt64} ORDER BY mount`, { host: hostId, seq: last.seq })
    assert.deepEqual(mounts, (last.filesystems ?? []).map((fs) => ({ mount: fs.mount, size: String(fs.sizeBytes) }))
      .sort((a, b) => a.mount.localeCompare(b.mount)))
    const nics = await store.query<{ interface: string, rx: string }>(`SELECT interface,
      toString(rx_bytes) AS rx FROM ${db}.interface_samples FINAL
      WHERE host_id = {host:String} AND seq = {seq:UInt64} ORDER BY interface`, { host: hostId, seq: last.seq })
    assert.deepEqual(nics, (last.network ?? []).map((nic) => ({ interface: nic.name, rx: String(nic.rxBytes) }))
      .sort((a, b) => a.interface.localeCompare(b.interface)))

    // The stored values against readings of this machine that do not go through the agent.
    const memTotal = Number(/^Mem:\s+(\d+)/m.exec(execFileSync('free', ['-b'], { encoding: 'utf8' }))?.[1])
    assert.equal(Number(rows[0].mem_total_bytes), memTotal, 'memory total as free(1) says')
    assert.ok(mounts.length > 0, 'this machine has a filesystem')
    for (const { mount, size } of mounts) {
      const df = execFileSync('df', ['-B1', '--output=size', mount], { encoding: 'utf8' })
      assert.equal(Number(size), Number(df.trim().split('\n')[1]), `${mount}: size as df(1) says`)
    }
    const since = execFileSync('uptime', ['-s'], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } }).trim()
    const bootSeconds = Date.parse(`${since.replace(' ', 'T')}Z`) / 1000
    assert.ok(Math.abs(Number(rows[0].boot_time) - bootSeconds) <= 2, `boot time ${rows[0].boot_time} vs ${since}`)
  })

  it('a simulated fleet should be stored completely, one row per sample', async () => {
    const fleet = createFleet(25, { seed: 7, intervalMs: 10_000 })
    const publisher = new Publisher({
      connection: kafkaConnection(settings.kafka, 'test'), topic: settings.kafka.topic,
      partition: -1, compression: 'lz4', bufferMaxSamples: 10_000, log
    })
    publisher.start()
    const start = Date.now() - 60_000
    for (let round = 0; round < 4; round++) {
      for (const host of fleet) publisher.publish(host.sample(start + round * 10_000))
    }
    assert.equal(await publisher.stop(30_000), 0)

    const db = settings.clickhouse.database
    const fleetRows = `SELECT count() AS n FROM ${db}.host_samples FINAL WHERE host_id LIKE 'sim-%'`
    const fleetEvents = `SELECT count() AS n FROM ${db}.events FINAL WHERE host_id LIKE 'sim-%'`
    assert.ok(await eventually(async () => (await count(fleetEvents)) === 100), 'all 100 events stored')
    assert.equal(await count(fleetRows), 100, 'one sample row per event')
    assert.equal(await count(`SELECT uniqExact(host_id) AS n FROM ${db}.host_samples WHERE host_id LIKE 'sim-%'`), 25)
  })

  it('events of one host should all land in one partition, in order', async () => {
    const db = settings.clickhouse.database
    const spread = await store.query<{ host_id: string, partitions: string, ordered: number }>(`
      SELECT host_id, uniqExact(partition) AS partitions,
        arraySort(groupArray(offset)) = arrayMap(x -> x.2, arraySort(groupArray((toUInt64(toUnixTimestamp(timestamp)), offset)))) AS ordered
      FROM ${db}.events FINAL WHERE host_id LIKE 'sim-%' GROUP BY host_id`)
    assert.equal(spread.length, 25)
    for (const row of spread) {
      assert.equal(Number(row.partitions), 1, `${row.host_id} should use one partition`)
      assert.equal(Number(row.ordered), 1, `${row.host_id} should be in time order`)
    }
  })

  it('bad messages should be dead-lettered with their reason while good ones are stored', async () => {
    const producer = new Producer({ clientId: 'test-bad', bootstrapBrokers: settings.kafka.brokers })
    const sample = createFleet(1, { seed: 99, intervalMs: 10_000 })[0].sample(Date.now() - 10_000)
    const good = { ...sample, host: { ...sample.host, id: 'dead-letter-test-host' } }
    const bad: Array<[string, Buffer]> = [
      ['not_json', Buffer.from('{"version": 1,')],
      ['empty', Buffer.alloc(0)],
      ['unknown_version', Buffer.from(JSON.stringify({ ...good, version: 99 }))],
      ['schema', Buffer.from(JSON.stringify({ ...good, seq: -1 }))],
      ['not_utf8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d])],
      ['time_out_of_range', Buffer.from(JSON.stringify({ ...good, time: Date.now() + 86_400_000 }))]
    ]
    await producer.send({
      messages: [
        ...bad.map(([, value]) => ({ topic: settings.kafka.topic, key: Buffer.from(good.host.id), value })),
        { topic: settings.kafka.topic, key: Buffer.from(good.host.id), value: Buffer.from(JSON.stringify(good)) }
      ]
    })
    await producer.close()

    const db = settings.clickhouse.database
    assert.ok(await eventually(async () =>
      (await count(`SELECT count() AS n FROM ${db}.dead_letters FINAL`)) === bad.length))
    const reasons = await store.query<{ reason: string }>(
      `SELECT reason FROM ${db}.dead_letters FINAL ORDER BY reason`)
    assert.deepEqual(reasons.map((row) => row.reason), bad.map(([reason]) => reason).sort())
    const raw = await store.query<{ value: string }>(
      `SELECT value_base64 AS value FROM ${db}.dead_letters FINAL WHERE reason = 'not_utf8'`)
    assert.deepEqual(Buffer.from(raw[0].value, 'base64'), bad[4][1], 'raw bytes should survive')
    assert.ok(await eventually(async () => (await count(
      `SELECT count() AS n FROM ${db}.host_samples FINAL WHERE host_id = {host:String}`,
      { host: good.host.id })) === 1))

    const consumer = new Consumer({
      groupId: `${settings.ingest.groupId}-dlq-reader`, clientId: 'test-dlq',
      bootstrapBrokers: settings.kafka.brokers
    })
    const stream = await consumer.consume({ topics: [settings.kafka.deadLetterTopic], mode: 'earliest' })
    const seen: string[] = []
    for await (const message of stream) {
      const reason = [...message.headers].find(([name]) => name.toString() === 'vitals-reason')
      seen.push(reason?.[1].toString() ?? '')
      if (seen.length === bad.length) break
    }
    await stream.close()
    await consumer.close(true)
    assert.deepEqual(seen.sort(), bad.map(([reason]) => reason).sort())
  })

  it('a second consumer group re-reading the topic should not add rows to query results', async () => {
    const db = settings.clickhouse.database
    // The batches of the earlier tests are written whole before counting.
    assert.ok(await eventually(async () => (await count(`SELECT count() AS n FROM ${db}.events FINAL`)) ===
      (await count(`SELECT count() AS n FROM ${db}.host_samples FINAL`))))
    const before = await count(`SELECT count() AS n FROM ${db}.events FINAL`)
    const replay = await isolatedSettings()
    replay.kafka = { ...settings.kafka }
    replay.clickhouse = { ...settings.clickhouse }
    replay.ingest.groupId = `${settings.ingest.groupId}-replay`
    const { ingest: second, store: secondStore } = await startIngest(replay, log)
    try {
      assert.ok(await eventually(async () => second.telemetry.get('events_stored') >= before))
    } finally {
      await second.stop()
      await secondStore.close()
    }
    assert.equal(await count(`SELECT count() AS n FROM ${db}.events FINAL`), before)
    assert.equal(await count(`SELECT count() AS n FROM ${db}.host_samples FINAL`),
      await count(`SELECT uniqExact(host_id, seq, time) AS n FROM ${db}.host_samples`))
  })
})
