import assert from 'node:assert/strict'
import { randomInt } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { Consumer, Producer } from '@platformatic/kafka'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { startIngest } from '../../src/cli/commands/ingest.ts'
import type { Settings } from '../../src/config/index.ts'
import { decodeEvent, EventV1, RejectReasons, type Decoded, type DecodeLimits }
  from '../../src/event/index.ts'
import type { Ingest } from '../../src/ingest/index.ts'
import { componentLogger } from '../../src/log.ts'
import { Store } from '../../src/store/index.ts'
import { bytesOf, Fuzzer, validEvent, type FuzzMessage } from '../helpers/messages.ts'
import { eventually, isolatedSettings, stopIngestAndDrop } from '../helpers/stack.ts'

/**
 * Throws seeded random and mutated messages at the decoder alone, then at a running ingest.
 * A failure prints its seed; `VITALS_FUZZ_SEED=<seed>` replays the same messages (the sample
 * times follow the clock, everything else is the same).
 */

const log = componentLogger('test')
const seed = process.env.VITALS_FUZZ_SEED !== undefined && process.env.VITALS_FUZZ_SEED !== ''
  ? Number(process.env.VITALS_FUZZ_SEED) >>> 0
  : randomInt(2 ** 32)
const limits: DecodeLimits = {
  maxMessageBytes: 256 * 1024,
  maxClockSkewMs: 5 * 60_000,
  maxSampleAgeMs: 30 * 86_400_000
}
const reasons = new Set<string>(Object.values(RejectReasons))
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/
const checkV1 = TypeCompiler.Compile(EventV1)

const outcome = (decoded: Decoded): string => (decoded.ok ? 'stored' : decoded.reason)

function tally (counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1)
}

describe('the decoder given mutated messages', () => {
  it('should never throw, and answer the same twice, over 30k messages', (t) => {
    t.diagnostic(`seed ${seed} (replay: VITALS_FUZZ_SEED=${seed})`)
    const now = Date.now()
    const fuzzer = new Fuzzer(seed, { now, maxBytes: limits.maxMessageBytes })
    const counts = new Map<string, number>()
    const started = Date.now()
    // 30k messages, unless a loaded machine makes that take over 30 s.
    let total = 0

    for (let i = 0; i < 30_000 && Date.now() - started < 30_000; i++, total++) {
      const message = fuzzer.next(i)
      let first: Decoded
      let second: Decoded
      try {
        first = decodeEvent(message.value, message.key, limits, now)
        second = decodeEvent(message.value, message.key, limits, now)
      } catch (error) {
        assert.fail(`message ${i} (${message.kind}, seed ${seed}) made the decoder throw: ` +
          `${(error as Error).stack}\nvalue: ${message.value.subarray(0, 300).toString('base64')}`)
      }
      // Decoded events come from JSON, so their JSON text tells them apart, and fast.
      assert.equal(JSON.stringify(second), JSON.stringify(first),
        `message ${i} (${message.kind}) decoded differently twice`)
      if (first.ok) {
        assert.ok(checkV1.Check(first.event), `message ${i} (${message.kind}) is not an event`)
      } else {
        assert.ok(reasons.has(first.reason), `message ${i}: reason ${first.reason}`)
        assert.ok(first.detail.length > 0 && first.detail.length <= 1000,
          `message ${i} (${message.kind}): detail of ${first.detail.length} characters`)
        assert.ok(!loneSurrogate.test(first.detail), `message ${i} (${message.kind}): ` +
          'the detail has a lone surrogate, which ClickHouse refuses')
      }
      tally(counts, outcome(first))
    }

    t.diagnostic(`${total} messages in ${Date.now() - started} ms: ` +
      JSON.stringify(Object.fromEntries([...counts].sort())))
    assert.ok(total >= 20_000, `only ${total} messages were decoded in the time allowed`)
    assert.ok((counts.get('stored') ?? 0) > total / 10, 'some of the messages should be valid')
  })

  it('regression: a sample time past the range of Date should be time_out_of_range, not throw', () => {
    const event = validEvent('web-1', Date.now())
    for (const time of [1e16, 8.64e15 + 1, 2 ** 53 - 1]) {
      const decoded = decodeEvent(Buffer.from(JSON.stringify({ ...event, time })), null, limits)
      assert.equal(outcome(decoded), 'time_out_of_range')
    }
  })

  it('regression: a deeply nested version should be unknown_version, not throw', () => {
    const value = Buffer.from(`{"version":${'['.repeat(100_000)}${']'.repeat(100_000)}}`)
    assert.equal(outcome(decodeEvent(value, null, limits)), 'unknown_version')
  })

  it('regression: a string holding a lone surrogate should be rejected as schema', () => {
    const text = JSON.stringify(validEvent('web-1', Date.now()))
    for (const id of ['\\ud800', 'a\\udc00', 'x\\ud83d']) {
      const value = Buffer.from(text.replace('"id":"web-1"', `"id":"${id}"`))
      assert.equal(outcome(decodeEvent(value, null, limits)), 'schema')
    }
    const pair = decodeEvent(Buffer.from(text.replace('"id":"web-1"', '"id":"\\ud83d\\ude00"')),
      null, limits)
    assert.ok(pair.ok && pair.event.host.id === '😀', 'an escaped pair is a valid character')
  })

  it('regression: a detail quoting cut text should hold no lone surrogate', () => {
    for (let pad = 0; pad < 40; pad++) {
      const value = Buffer.from(`${'x'.repeat(pad)}${'😀'.repeat(40)} x`)
      const decoded = decodeEvent(value, null, limits)
      assert.ok(!decoded.ok && !loneSurrogate.test(decoded.detail), JSON.stringify(decoded))
    }
  })

  it('regression: numbers ClickHouse would refuse or wrap should be rejected as schema', () => {
    const event = validEvent('web-1', Date.now())
    const cases: Array<(copy: any) => void> = [
      (copy) => { copy.filesystems[0].sizeBytes = 1.5 },
      (copy) => { copy.memory.totalBytes = 1e-7 },
      (copy) => { copy.network[0].rxBytes = 0.5 },
      (copy) => { copy.seq = 1e21 },
      (copy) => { copy.agentStartedAt = 1e300 },
      (copy) => { copy.uptime.bootTime = 2 ** 60 },
      (copy) => { copy.cpu.cores = 65_536 },
      (copy) => { copy.cpu.load1 = 1e300 }
    ]
    for (const change of cases) {
      const copy = JSON.parse(JSON.stringify(event))
      change(copy)
      assert.equal(outcome(decodeEvent(Buffer.from(JSON.stringify(copy)), null, limits)), 'schema',
        change.toString())
    }
  })
})

describe('ingest given thousands of fuzzed messages', { timeout: 240_000 }, () => {
  const target = 3000
  const budgetMs = 60_000
  let settings: Settings
  let store: Store
  let ingest: Ingest
  let ingestStore: Store
  let db: string

  const count = async (sql: string): Promise<number> =>
    Number((await store.query<{ n: string }>(sql))[0].n)

  before(async () => {
    settings = await isolatedSettings((s) => {
      // Under the broker's 1 MiB default, so that too_large is reached by messages Kafka takes.
      s.ingest.maxMessageBytes = limits.maxMessageBytes
    })
    db = settings.clickhouse.database
    ;({ ingest, store: ingestStore } = await startIngest(settings, log))
    store = await Store.connect(settings.clickhouse)
  })

  after(async () => await stopIngestAndDrop(ingest, ingestStore, store, db))

  it('should store or dead-letter every message exactly once and keep consuming', async (t) => {
    t.diagnostic(`seed ${seed} (replay: VITALS_FUZZ_SEED=${seed})`)
    const started = Date.now()
    const fuzzer = new Fuzzer(seed, { now: started, maxBytes: limits.maxMessageBytes })
    const brokers = settings.kafka.brokers
    const producer = new Producer({ clientId: 'test-fuzz', bootstrapBrokers: brokers })
    const partitions = settings.kafka.partitions
    /** What the decoder says of each message, by event id: the oracle for ingest's answer. */
    const expected = new Map<number, { kind: string, outcome: string }>()
    const kinds = new Map<string, number>()
    let produced = 0

    try {
      while (produced < target && Date.now() - started < budgetMs) {
        // One chunk at a time, each taken in full before the next: see produceChunk.
        const chunk: FuzzMessage[] = []
        let bytes = 0
        while (produced + chunk.length < target && chunk.length < 150) {
          const message = fuzzer.next(produced + chunk.length)
          chunk.push(message)
          bytes += message.value.length + (message.key?.length ?? 0)
          if (bytes > 400 * 1024) break
        }
        await produceChunk(producer, settings.kafka.topic, partitions, chunk, produced, expected,
          kinds)
        produced += chunk.length

        const taken = await eventually(async () => accounted(ingest) >= produced, 20_000, 20)
        assert.ok(taken, `ingest stopped taking messages after ${accounted(ingest)} of ` +
          `${produced} (seed ${seed}); failure: ${ingest.failure?.message}; ` +
          `telemetry ${JSON.stringify(ingest.telemetry.snapshot())}`)
      }
    } finally {
      await producer.close()
    }
    const fuzzMs = Date.now() - started
    assert.equal(ingest.failure, undefined, 'ingest should not have failed')
    assert.equal(ingest.telemetry.get('store_write_failed'), 0, 'no write should have been retried')

    // Still consuming: one more good event after the fuzz is stored.
    const last = validEvent('fuzz-after', Date.now() - 10_000)
    const after = new Producer({ clientId: 'test-fuzz-after', bootstrapBrokers: brokers })
    await after.send({
      messages: [{ topic: settings.kafka.topic, key: Buffer.from(last.host.id), value: bytesOf(last) }]
    })
    await after.close()
    // The events table is written after the sample tables, so waiting on it sees the batch whole.
    const lastRows = `SELECT count() AS n FROM ${db}.events FINAL WHERE host_id = 'fuzz-after'`
    assert.ok(await eventually(async () => (await count(lastRows)) === 1, 20_000),
      'an event produced after the fuzz should be stored')

    const events = await count(`SELECT count() AS n FROM ${db}.events FINAL`)
    const dead = await count(`SELECT count() AS n FROM ${db}.dead_letters FINAL`)
    const samples = await count(`SELECT count() AS n FROM ${db}.host_samples FINAL`)
    const shared = await count(`SELECT count() AS n FROM ${db}.events FINAL
      WHERE id IN (SELECT id FROM ${db}.dead_letters)`)
    const stray = (table: string) =>
      `(SELECT count() FROM ${db}.${table} WHERE event_id NOT IN (SELECT id FROM ${db}.events))`
    const orphans = await count(`SELECT ${stray('host_samples')} + ${stray('filesystem_samples')} +
      ${stray('interface_samples')} AS n`)

    // Ingest's answer for each message, against the decoder's on its own.
    const answers = new Map<number, string>()
    const stored = await store.query<{ id: string }>(`SELECT toString(id) AS id FROM ${db}.events FINAL`)
    for (const row of stored) {
      answers.set(Number(row.id), 'stored')
    }
    for (const row of await store.query<{ id: string, reason: string }>(
      `SELECT toString(id) AS id, reason FROM ${db}.dead_letters FINAL`)) {
      answers.set(Number(row.id), row.reason)
    }
    const reasonCounts = new Map<string, number>()
    const disagreements: string[] = []
    for (const [id, { kind, outcome: predicted }] of expected) {
      const answer = answers.get(id) ?? 'lost'
      tally(reasonCounts, answer)
      if (answer !== predicted && disagreements.length < 10) {
        disagreements.push(`id ${id} (${kind}): decoder says ${predicted}, ingest ${answer}`)
      }
    }

    t.diagnostic(`produced ${produced} fuzzed messages (+1 after) in ${fuzzMs} ms; ` +
      `stored ${events} events, dead-lettered ${dead}`)
    t.diagnostic(`by outcome: ${JSON.stringify(Object.fromEntries([...reasonCounts].sort()))}`)
    t.diagnostic(`by mutation: ${JSON.stringify(Object.fromEntries([...kinds].sort()))}`)
    t.diagnostic(`telemetry: ${JSON.stringify(ingest.telemetry.snapshot())}`)

    assert.deepEqual(disagreements, [], 'ingest should answer each message as the decoder does')
    assert.equal(events + dead, produced + 1, 'every message should be stored or dead-lettered')
    assert.equal(shared, 0, 'no message should be both stored and dead-lettered')
    assert.equal(samples, events, 'one host_samples row per stored event')
    assert.equal(orphans, 0, 'no sample row should belong to a message that was not stored')

    // Every dead letter is on the dead-letter topic too, saying where it came from and why.
    const onTopic = await readDeadLetterTopic(settings, dead, 30_000)
    const reasonsById = [...answers].filter(([, answer]) => answer !== 'stored')
    for (const [id, reason] of reasonsById) {
      assert.equal(onTopic.get(id), reason, `dead letter ${id} on the topic`)
    }
  })
})

/*
 * Why chunks: each chunk (at most 150 messages or ~400 KiB) is produced and then waited for
 * until ingest has taken all of it, so a message that stalls ingest is caught in the chunk that
 * holds it, and the failure names the seed that replays it.
 */
async function produceChunk (producer: Producer, topic: string, partitions: number,
  chunk: FuzzMessage[], first: number, expected: Map<number, { kind: string, outcome: string }>,
  kinds: Map<string, number>): Promise<void> {
  const now = Date.now()
  const placed = chunk.map((message, i) => ({ message, partition: (first + i) % partitions }))
  const result = await producer.send({
    messages: placed.map(({ message, partition }) => ({
      topic, partition, key: message.key, value: message.value
    }))
  })
  // Records of one partition in one send are appended in order, from the base offset returned.
  const next = new Map<number, bigint>()
  for (const { partition, offset } of result.offsets ?? []) next.set(partition, offset)
  for (const { message, partition } of placed) {
    const offset = next.get(partition)
    assert.ok(offset !== undefined, `no offset for partition ${partition}`)
    next.set(partition, offset + 1n)
    const id = partition * 2 ** 40 + Number(offset)
    expected.set(id, { kind: message.kind, outcome: predict(message, now) })
    tally(kinds, message.kind.startsWith('combo') ? 'combo' : message.kind)
  }
}

/** The decoder's answer; if it throws, ingest will too, and the wait for it says so. */
function predict (message: FuzzMessage, now: number): string {
  try {
    return outcome(decodeEvent(message.value, message.key, limits, now))
  } catch (error) {
    return `decoder threw: ${(error as Error).message}`
  }
}

function accounted (ingest: Ingest): number {
  return ingest.telemetry.get('events_stored') + ingest.telemetry.get('messages_dead_lettered')
}

/** Reads the dead-letter topic from the start: event id (from vitals-source) → vitals-reason. */
async function readDeadLetterTopic (settings: Settings, expected: number, timeoutMs: number):
  Promise<Map<number, string>> {
  const consumer = new Consumer({
    groupId: `${settings.ingest.groupId}-dlq-reader`, clientId: 'test-fuzz-dlq',
    bootstrapBrokers: settings.kafka.brokers
  })
  const seen = new Map<number, string>()
  const topics = [settings.kafka.deadLetterTopic]
  const stream = await consumer.consume({ topics, mode: 'earliest' })
  const timer = setTimeout(() => { void stream.close() }, timeoutMs)
  try {
    for await (const message of stream) {
      const header = (name: string) => [...message.headers]
        .find(([key]) => key.toString() === name)?.[1].toString() ?? ''
      const [, partition, offset] = /\/(\d+)\/(\d+)$/.exec(header('vitals-source')) ?? []
      seen.set(Number(partition) * 2 ** 40 + Number(offset), header('vitals-reason'))
      if (seen.size >= expected) break
    }
  } finally {
    clearTimeout(timer)
    await stream.close()
    await consumer.close(true)
  }
  return seen
}
