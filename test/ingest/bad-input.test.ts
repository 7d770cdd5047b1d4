import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Admin, Consumer, Producer } from '@platformatic/kafka'
import { startIngest } from '../../src/cli/commands/ingest.ts'
import type { Settings } from '../../src/config/index.ts'
import type { SampleEvent } from '../../src/event/index.ts'
import type { Ingest } from '../../src/ingest/index.ts'
import { componentLogger } from '../../src/log.ts'
import { Store } from '../../src/store/index.ts'
import { bytesOf, changed, validEvent, withRaw } from '../helpers/messages.ts'
import { eventually, isolatedSettings, stopIngestAndDrop } from '../helpers/stack.ts'

/**
 * One message for each kind of bad input, each between two good events, through a running
 * ingest: every bad one must come out as a dead letter (table and topic) with its reason and
 * its bytes untouched, and every good one must be stored.
 */

const log = componentLogger('test')
const MiB = 1024 * 1024

interface Case {
  name: string
  reason: string
  value: Buffer | null
  key?: Buffer
}

interface Sent {
  id: number
  /** where it went: `topic/partition/offset`, as the vitals-source header says */
  source: string
  key: Buffer | undefined
  value: Buffer | null
}

function badCases (now: number): Case[] {
  const base = validEvent('bad-input-case', now - 60_000, 3)
  const text = JSON.stringify(base)
  const at = text.indexOf('bad-input-case')
  const c = (name: string, reason: string, value: Buffer | null, key?: Buffer): Case =>
    ({ name, reason, value, key })
  const edit = (change: (copy: any) => void) => changed(base, change)
  const many = <T>(make: (i: number) => T) => Array.from({ length: 3000 }, (_, i) => make(i))
  const [fs, nic] = [base.filesystems![0], base.network![0]]

  return [
    c('invalid JSON', 'not_json', Buffer.from('{"version": 1, "host": ')),
    c('a JSON array', 'not_object', Buffer.from('[1,2,3]')),
    c('a JSON string', 'not_object', Buffer.from('"event"')),
    c('a JSON number', 'not_object', Buffer.from('42')),
    c('JSON null', 'not_object', Buffer.from('null')),
    c('a missing field', 'schema', edit((e) => { delete e.host.name })),
    c('a missing sample time', 'schema', edit((e) => { delete e.time })),
    c('an extra field', 'schema', edit((e) => { e.gpu = { busy: 3 } })),
    c('an extra nested field', 'schema', edit((e) => { e.network[0].mtu = 1500 })),
    c('a string for a number', 'schema', edit((e) => { e.seq = '7' })),
    c('an object for an array', 'schema', edit((e) => { e.filesystems = {} })),
    c('a number for a string', 'schema', edit((e) => { e.bootId = 42 })),
    c('a number too big for a double (1e400)', 'schema', withRaw(base, 'load1', '1e400')),
    c('a NaN literal', 'not_json', withRaw(base, 'load1', 'NaN')),
    c('an Infinity literal', 'not_json', withRaw(base, 'uptimeSeconds', 'Infinity')),
    c('a negative byte count', 'schema', edit((e) => { e.memory.totalBytes = -1 })),
    c('a negative sequence number', 'schema', edit((e) => { e.seq = -1 })),
    c('a percentage of 250', 'schema', edit((e) => { e.cpu.total.busy = 250 })),
    c('2^70 bytes', 'schema', edit((e) => { e.memory.totalBytes = 2 ** 70 })),
    c('schema version 2', 'unknown_version', edit((e) => { e.version = 2 })),
    c('version "1" as a string', 'unknown_version', edit((e) => { e.version = '1' })),
    c('no version', 'unknown_version', edit((e) => { delete e.version })),
    c('a sample time a day ahead', 'time_out_of_range',
      bytesOf({ ...base, time: now + 86_400_000 })),
    c('a sample time a year back', 'time_out_of_range',
      bytesOf({ ...base, time: now - 365 * 86_400_000 })),
    c('the sample time 0', 'time_out_of_range', bytesOf({ ...base, time: 0 })),
    c('bytes that are not UTF-8', 'not_utf8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d])),
    c('an event with one byte that is not UTF-8 in a string', 'not_utf8',
      Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.of(0xff), Buffer.from(text.slice(at))])),
    c('an empty message', 'empty', Buffer.alloc(0)),
    c('a message without a value', 'empty', null),
    c('a 2 MiB message', 'too_large',
      bytesOf({ ...base, host: { ...base.host, name: 'x'.repeat(2 * MiB) } })),
    c('3000 filesystems', 'schema',
      bytesOf({ ...base, filesystems: many((i) => ({ ...fs, mount: `/srv/${i}` })) })),
    c('3000 network interfaces', 'schema',
      bytesOf({ ...base, network: many((i) => ({ ...nic, name: `veth${i}` })) })),
    c('a key that is not the host id', 'key_mismatch', bytesOf(base), Buffer.from('another-host')),
    c('a key that differs in case', 'key_mismatch', bytesOf(base), Buffer.from('BAD-INPUT-CASE')),
    // Each of these once stopped ingest, made it retry forever, or stored a wrong value.
    c('a sample time past the range of Date (1e16)', 'time_out_of_range',
      bytesOf({ ...base, time: 1e16 })),
    c('a version nested 100 000 deep', 'unknown_version',
      Buffer.from(`{"version":${'['.repeat(100_000)}${']'.repeat(100_000)}}`)),
    c('a host id with half a surrogate pair (\\ud800)', 'schema',
      Buffer.from(text.replace('"id":"bad-input-case"', '"id":"bad-input-\\ud800"'))),
    c('text whose JSON error quotes half an emoji', 'not_json',
      Buffer.from(`x${'😀'.repeat(40)} x`)),
    c('a fractional byte count', 'schema', edit((e) => { e.filesystems[0].sizeBytes = 1.5 })),
    c('a sequence number JSON writes as 1e+21', 'schema', edit((e) => { e.seq = 1e21 })),
    c('more cores than UInt16 holds', 'schema', edit((e) => { e.cpu.cores = 65_536 })),
    c('a load average Float32 cannot hold', 'schema', edit((e) => { e.cpu.load1 = 1e300 }))
  ]
}

/** Quotes, backslashes, non-Latin text, an emoji, control characters and a line separator. */
const oddId = 'q"uote \\ back\\slash ünï 日本 😀 \u0001\u001f\t\n\u2028 end'

describe('ingest given bad input', { timeout: 180_000 }, () => {
  let settings: Settings
  let store: Store
  let ingest: Ingest
  let ingestStore: Store
  let db: string
  const bad: Array<Case & Sent> = []
  const good: Array<SampleEvent & Sent> = []

  const query = async <T>(sql: string, params: Record<string, string> = {}): Promise<T[]> =>
    await store.query<T>(sql, params)
  const count = async (sql: string): Promise<number> =>
    Number((await query<{ n: string }>(sql))[0].n)

  before(async () => {
    settings = await isolatedSettings()
    db = settings.clickhouse.database
    // Kafka refuses messages over 1 MiB by default, and the 2 MiB case must reach ingest. Both
    // topics are made here to take more, as an operator would; the tests at the end leave the
    // dead-letter topic at the default.
    await createTopics(settings, 4 * MiB, 16 * MiB)
    ;({ ingest, store: ingestStore } = await startIngest(settings, log))
    store = await Store.connect(settings.clickhouse)

    const now = Date.now()
    const producer = new Producer({ clientId: 'test-bad-input', bootstrapBrokers: settings.kafka.brokers })
    const sendNext = async (key: Buffer | undefined, value: Buffer | null) =>
      await send(producer, settings, good.length + bad.length, key, value)
    const goodOne = async (event: SampleEvent, keyed = true) => {
      const key = keyed ? Buffer.from(event.host.id) : undefined
      good.push({ ...event, ...await sendNext(key, bytesOf(event)) })
    }
    try {
      const cases = badCases(now)
      for (const [i, item] of cases.entries()) {
        await goodOne(validEvent(`bad-input-good-${i}`, now - 30_000, i + 100))
        const key = item.key ?? Buffer.from('bad-input-case')
        bad.push({ ...item, ...await sendNext(key, item.value) })
      }
      await goodOne(validEvent('bad-input-no-key', now - 30_000, 7), false)
      const odd = validEvent(oddId, now - 30_000, 8)
      await goodOne({
        ...odd,
        host: { ...odd.host, name: 'tab\there, nul\u0000 "quoted"', tags: { 'k"ey\\': 'v\u0000l😀' } },
        filesystems: odd.filesystems!.map((fs, i) => ({ ...fs, mount: `/mnt/ünï "${i}" \\` }))
      })
    } finally {
      await producer.close()
    }
    const total = good.length + bad.length
    const taken = () => ingest.telemetry.get('events_stored') + ingest.telemetry.get('messages_dead_lettered')
    assert.ok(await eventually(async () => taken() >= total, 60_000), `ingest should take all ` +
      `${total} messages; telemetry ${JSON.stringify(ingest.telemetry.snapshot())}`)
  })

  after(async () => await stopIngestAndDrop(ingest, ingestStore, store, db))

  it('each bad message should be a dead letter with its reason, a detail and its exact bytes', async () => {
    const rows = await query<{ id: string, reason: string, detail: string, key: string,
      value: string, bytes: number }>(`SELECT toString(id) AS id, reason, detail,
      key_base64 AS key, value_base64 AS value, value_bytes AS bytes FROM ${db}.dead_letters FINAL`)
    const byId = new Map(rows.map((row) => [Number(row.id), row]))
    for (const item of bad) {
      const row = byId.get(item.id)
      assert.ok(row !== undefined, `${item.name}: no dead letter`)
      assert.equal(row.reason, item.reason, `${item.name}: ${row.detail}`)
      assert.ok(row.detail.length > 0, `${item.name}: the detail should say why`)
      assert.deepEqual(Buffer.from(row.value, 'base64'), item.value ?? Buffer.alloc(0),
        `${item.name}: the raw bytes should survive`)
      assert.equal(Number(row.bytes), item.value?.length ?? 0, item.name)
      assert.deepEqual(Buffer.from(row.key, 'base64'), item.key, `${item.name}: the key`)
    }
    assert.equal(rows.length, bad.length, 'only the bad messages should be dead letters')
  })

  it('each bad message should be on the dead-letter topic with vitals-reason and vitals-source', async () => {
    const seen = await readDeadLetterTopic(settings, bad.length, 30_000)
    for (const item of bad) {
      const letter = seen.get(item.source)
      assert.ok(letter !== undefined, `${item.name}: not on the dead-letter topic`)
      assert.equal(letter.reason, item.reason, item.name)
      assert.ok(letter.detail.length > 0, `${item.name}: vitals-detail`)
      assert.deepEqual(letter.value, item.value ?? Buffer.alloc(0), `${item.name}: the value`)
    }
  })

  it('every good event should be stored once, and no bad one', async () => {
    const hosts = await query<{ host_id: string, n: string }>(
      `SELECT host_id, count() AS n FROM ${db}.host_samples FINAL GROUP BY host_id`)
    const sent = good.map((event) => event.host.id)
    assert.deepEqual(hosts.map((row) => row.host_id).sort(), sent.sort())
    assert.ok(hosts.every((row) => Number(row.n) === 1))
    const ids = (await query<{ id: string }>(`SELECT toString(id) AS id FROM ${db}.events FINAL`))
      .map((row) => Number(row.id)).sort((a, b) => a - b)
    assert.deepEqual(ids, good.map((event) => event.id).sort((a, b) => a - b))
  })

  it('a message without a key should be stored: the key is optional', async () => {
    const rows = await query<{ key: string, host_id: string }>(
      `SELECT key, host_id FROM ${db}.events FINAL WHERE host_id = 'bad-input-no-key'`)
    assert.deepEqual(rows, [{ key: '', host_id: 'bad-input-no-key' }])
  })

  it('quotes, backslashes, unicode and control characters should be stored as they were sent', async () => {
    const sent = good.find((event) => event.host.id === oddId)
    assert.ok(sent !== undefined)
    const events = await query<{ host_id: string, key: string, message: string }>(
      `SELECT host_id, key, message FROM ${db}.events FINAL WHERE id = ${sent.id}`)
    assert.equal(events.length, 1)
    assert.equal(events[0].host_id, oddId)
    assert.equal(events[0].key, oddId)
    assert.deepEqual(Buffer.from(events[0].message), sent.value, 'the raw message, as it was')

    const samples = await query<{ hostname: string }>(
      `SELECT hostname FROM ${db}.host_samples FINAL WHERE event_id = ${sent.id}`)
    assert.deepEqual(samples, [{ hostname: sent.host.name }])
    const mounts = await query<{ mount: string }>(
      `SELECT mount FROM ${db}.filesystem_samples FINAL WHERE event_id = ${sent.id} ORDER BY mount`)
    assert.deepEqual(mounts.map((row) => row.mount), sent.filesystems!.map((fs) => fs.mount).sort())
  })

  it('a message the dead-letter topic is too small for should still be dead-lettered, and ingest go on',
    async () => {
      await stallsIngest(async (other) => {
        await createTopics(other, 4 * MiB)
        return [Buffer.from(JSON.stringify({ pad: 'x'.repeat(2 * MiB) }))]
      })
    })

  it('a batch of dead letters over 1 MiB should reach the dead-letter topic, and ingest go on',
    async () => {
      await stallsIngest(async (other) => {
        await createTopics(other)
        return Array.from({ length: 6 }, (_, i) => Buffer.from(`${i} not JSON ${'x'.repeat(400_000)}`))
      })
    })
})

/** Creates the topic and the dead-letter topic, with a higher max.message.bytes where given. */
async function createTopics (settings: Settings, topicBytes?: number, deadLetterBytes?: number):
  Promise<void> {
  const admin = new Admin({ clientId: 'test-bad-input-admin', bootstrapBrokers: settings.kafka.brokers })
  const limit = (bytes?: number) =>
    (bytes === undefined ? [] : [{ name: 'max.message.bytes', value: String(bytes) }])
  try {
    const { topic, deadLetterTopic, partitions } = settings.kafka
    await admin.createTopics({ topics: [topic], partitions, replicas: -1, configs: limit(topicBytes) })
    await admin.createTopics({
      topics: [deadLetterTopic], partitions: 1, replicas: -1, configs: limit(deadLetterBytes)
    })
  } finally {
    await admin.close()
  }
}

/** Sends one message, to partition `n` mod the partition count; returns its event id. */
async function send (producer: Producer, settings: Settings, n: number, key: Buffer | undefined,
  value: Buffer | null): Promise<Sent> {
  const partition = n % settings.kafka.partitions
  const result = await producer.send({
    messages: [{ topic: settings.kafka.topic, partition, key, value: value ?? undefined }]
  })
  const offset = result.offsets?.find((item) => item.partition === partition)?.offset
  assert.ok(offset !== undefined, 'the broker should say where the message went')
  return {
    id: partition * 2 ** 40 + Number(offset),
    source: `${settings.kafka.topic}/${partition}/${offset}`,
    key,
    value
  }
}

/**
 * Produces what `prepare` returns (after making the topics) before an ingest of its own starts,
 * so that all of it is one batch; once the dead letters are in the table, one more good event
 * must be stored, and no write should have been retried.
 */
async function stallsIngest (prepare: (settings: Settings) => Promise<Buffer[]>): Promise<void> {
  const settings = await isolatedSettings()
  const values = await prepare(settings)
  const brokers = settings.kafka.brokers
  const producer = new Producer({ clientId: 'test-bad-input-stall', bootstrapBrokers: brokers })
  for (const value of values) {
    await producer.send({ messages: [{ topic: settings.kafka.topic, partition: 0, value }] })
  }
  const { ingest, store: ingestStore } = await startIngest(settings, log)
  const store = await Store.connect(settings.clickhouse)
  const db = settings.clickhouse.database
  const count = async (sql: string): Promise<number> =>
    Number((await store.query<{ n: string }>(sql))[0].n)
  try {
    assert.ok(await eventually(async () =>
      (await count(`SELECT count() AS n FROM ${db}.dead_letters FINAL`)) === values.length, 20_000))
    const event = validEvent('stall-after', Date.now() - 10_000)
    const key = Buffer.from(event.host.id)
    await producer.send({ messages: [{ topic: settings.kafka.topic, partition: 0, key, value: bytesOf(event) }] })
    const stored = await eventually(async () =>
      (await count(`SELECT count() AS n FROM ${db}.events FINAL`)) === 1, 10_000)
    assert.ok(stored, `ingest should go on; telemetry ${JSON.stringify(ingest.telemetry.snapshot())}`)
    assert.equal(ingest.telemetry.get('store_write_failed'), 0)
  } finally {
    await producer.close()
    await ingest.stop(2000)
    await ingestStore.close()
    await store.command(`DROP DATABASE IF EXISTS ${db}`)
    await store.close()
  }
}

interface Letter {
  reason: string
  detail: string
  value: Buffer
}

/** Reads the dead-letter topic from the start, by vitals-source (`topic/partition/offset`). */
async function readDeadLetterTopic (settings: Settings, expected: number, timeoutMs: number):
  Promise<Map<string, Letter>> {
  const consumer = new Consumer({
    groupId: `${settings.ingest.groupId}-dlq-reader`, clientId: 'test-bad-input-dlq',
    bootstrapBrokers: settings.kafka.brokers
  })
  const seen = new Map<string, Letter>()
  const topics = [settings.kafka.deadLetterTopic]
  const stream = await consumer.consume({ topics, mode: 'earliest' })
  const timer = setTimeout(() => { void stream.close() }, timeoutMs)
  try {
    for await (const message of stream) {
      const header = (name: string) => [...message.headers]
        .find(([key]) => key.toString() === name)?.[1].toString() ?? ''
      seen.set(header('vitals-source'), {
        reason: header('vitals-reason'),
        detail: header('vitals-detail'),
        value: message.value ?? Buffer.alloc(0)
      })
      if (seen.size >= expected) break
    }
  } finally {
    clearTimeout(timer)
    await stream.close()
    await consumer.close(true)
  }
  return seen
}
