import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, describe, it } from 'node:test'
import { createFleet } from '../../src/agent/simulate.ts'
import { encodeEvent, type SampleEvent } from '../../src/event/index.ts'
import { emptyRows, eventId, RowBuilder, type MessageCoordinates, type Rows } from '../../src/ingest/rows.ts'
import type { Store } from '../../src/store/client.ts'
import { legacyFeatures, modernFeatures } from '../../src/store/features.ts'
import { completenessPerHost, latestPerHost, type HostSummary } from '../../src/store/queries.ts'
import type { QueryOptions } from '../../src/store/client.ts'
import { migrations, type SchemaOptions } from '../../src/store/schema.ts'
import { bindLiterals, identifier, type ParamValue } from '../../src/store/sql.ts'

/**
 * The modern DDL (ClickHouse 20.1+ features) run on a current engine: chdb embeds ClickHouse in
 * Python, so this needs `pip install chdb` but no server. The legacy DDL runs on the real 18.16
 * server in the stack tests.
 */

const runner = join(dirname(fileURLToPath(import.meta.url)), 'chdb_run.py')
const python = process.env.PYTHON ?? 'python3'

const database = 'vitals'
const options: SchemaOptions = { database, eventRetentionDays: 30, sampleRetentionDays: 400 }
const tables = ['events', 'host_samples', 'filesystem_samples', 'interface_samples',
  'dead_letters'] as const
type Table = (typeof tables)[number]
const intervalMs = 10_000

const ddl = (features: typeof modernFeatures) =>
  migrations.flatMap((migration) => migration.statements(features, options))
const table = (name: string) => `${identifier(database)}.${identifier(name)}`

interface Step { sql: string, data?: string, name?: string, optional?: boolean }
type Rowset = Array<Record<string, unknown>>
interface Outcome { results: Record<string, Rowset>, errors: Record<string, string> }

/** A Float32 read back as JSON: the shortest text of the float, so round it again to compare. */
const float32 = (value: unknown) => (value === null ? null : Math.fround(Number(value)))

/** Runs the steps in one chdb session; fails the test with chdb's own words on any error. */
function runChdb (folder: string, steps: Step[]): Outcome {
  const plan = join(folder, 'plan.json')
  writeFileSync(plan, JSON.stringify({ steps }))
  const run = spawnSync(python, [runner, plan], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  if (run.error !== undefined) {
    assert.fail(`cannot run ${python} (${run.error.message}); this test needs Python 3 with chdb: ` +
      'pip install chdb')
  }
  let output: Partial<Outcome> & { error?: string, step?: number, sql?: string }
  try {
    output = JSON.parse(run.stdout)
  } catch {
    assert.fail(`chdb_run.py printed no JSON (exit ${run.status}): ${run.stdout}${run.stderr}`)
  }
  if (run.status === 2) {
    assert.fail(`${output.error} (CI installs it)`)
  }
  if (output.error !== undefined) {
    assert.fail(`chdb refused step ${output.step}: ${output.error}\n${output.sql}`)
  }
  return output as Outcome
}

/** The SQL `latestPerHost` and `completenessPerHost` send, with parameters bound as literals. */
async function liveViewQueries (): Promise<string[]> {
  const queries: string[] = []
  const capture = {
    table,
    query: async (sql: string, params: Record<string, ParamValue>, options?: QueryOptions) => {
      assert.equal(options?.readonly, true, `a query that only reads should run read-only:\n${sql}`)
      queries.push(bindLiterals(sql, params))
      return []
    }
  }
  await latestPerHost(capture as unknown as Store)
  await completenessPerHost(capture as unknown as Store)
  return queries
}

describe('modern schema on a current ClickHouse engine (chdb)', { timeout: 120_000 }, () => {
  let folder: string
  let results: Record<string, Rowset>
  let errors: Record<string, string>
  let rows: Rows
  let events: SampleEvent[]
  let messages: MessageCoordinates[]
  let queries: string[]
  const hostCount = 3
  const samplesPerHost = 4

  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'vitals-chdb-'))

    // Recent enough for the live view's time window, with milliseconds that differ per sample
    // (the first on a whole second, to check that an integer JSON number means seconds).
    const start = Math.floor((Date.now() - 10 * 60_000) / 1000) * 1000
    const fleet = createFleet(hostCount, { seed: 11, intervalMs })
    events = []
    for (let i = 0; i < samplesPerHost; i++) {
      for (const host of fleet) {
        events.push(host.sample(start + i * intervalMs + (i * 337) % 1000))
      }
    }
    // The newest sample of the first host, whose CPU collector failed: NULL CPU columns.
    const failed = events[(samplesPerHost - 1) * hostCount] as SampleEvent
    delete failed.cpu
    failed.failures = [{ family: 'cpu', error: 'cannot read /proc/stat' }]

    const builder = new RowBuilder(modernFeatures)
    const offsets = new Map<number, bigint>()
    rows = emptyRows()
    messages = events.map((event, index) => {
      const partition = index % 3
      const offset = offsets.get(partition) ?? 0n
      offsets.set(partition, offset + 1n)
      const message: MessageCoordinates = {
        topic: 'vitals-metrics',
        partition,
        offset,
        timestamp: event.time + 41,
        key: Buffer.from(event.host.id),
        value: encodeEvent(event)
      }
      builder.addEvent(rows, message, event)
      return message
    })
    builder.addDeadLetter(rows, {
      topic: 'vitals-metrics',
      partition: 1,
      offset: 1000n,
      timestamp: start,
      key: Buffer.from('sim-0001'),
      value: Buffer.from([0xff, 0xfe, 0x00, 0x7b])
    }, 'not_utf8', 'the value is not valid UTF-8')

    const inserts: Step[] = []
    for (const name of tables) {
      const file = `${name}.jsonl`
      await writeFile(join(folder, file), rows[name].map((row) => JSON.stringify(row)).join('\n'))
      inserts.push({ sql: `INSERT INTO ${table(name)} FORMAT JSONEachRow`, data: file })
    }
    const counts = (final: boolean) => `SELECT ${tables.map((name) =>
      `(SELECT count() FROM ${table(name)}${final ? ' FINAL' : ''}) AS ${name}`).join(', ')}`

    queries = await liveViewQueries()
    assert.equal(queries.length, 4, 'three live view queries and one completeness query')

    ;({ results, errors } = runChdb(folder, [
      { sql: `CREATE DATABASE IF NOT EXISTS ${identifier(database)}` },
      ...ddl(modernFeatures).map((sql) => ({ sql })),
      {
        name: 'columns',
        sql: `SELECT table, name, type, compression_codec FROM system.columns
WHERE database = '${database}' ORDER BY table, position`
      },
      {
        name: 'tables',
        sql: `SELECT name, engine, engine_full, create_table_query FROM system.tables
WHERE database = '${database}' ORDER BY name`
      },
      ...inserts,
      { name: 'once', sql: counts(false) },
      // Its failure is reported by the live view tests, without hiding what the others check.
      ...queries.map((sql, i) => ({ name: `live${i}`, sql, optional: true })),
      {
        name: 'host_times',
        sql: `SELECT host_id, seq, toUnixTimestamp64Milli(time) AS ms, cpu_busy, cpu_user,
failed_families, mem_total_bytes, event_id FROM ${table('host_samples')} ORDER BY host_id, seq`
      },
      {
        name: 'event_times',
        sql: `SELECT id, host_id, toUnixTimestamp64Milli(timestamp) AS ms, message
FROM ${table('events')} ORDER BY id`
      },
      {
        name: 'sample_times',
        sql: `SELECT 'filesystem' AS family, host_id, seq, toUnixTimestamp64Milli(time) AS ms
FROM ${table('filesystem_samples')}
UNION ALL SELECT 'interface', host_id, seq, toUnixTimestamp64Milli(time)
FROM ${table('interface_samples')}`
      },
      {
        name: 'dead_letters',
        sql: `SELECT reason, base64Decode(value_base64) = unhex('fffe007b') AS intact, value_bytes
FROM ${table('dead_letters')}`
      },
      ...inserts,
      { name: 'twice_final', sql: counts(true) }
    ]))
  })

  after(async () => {
    if (folder !== undefined) await rm(folder, { recursive: true, force: true })
  })

  const columnsOf = (name: Table) => results.columns.filter((column) => column.table === name)
  const column = (name: Table, columnName: string) => {
    const found = columnsOf(name).find((c) => c.name === columnName)
    assert.ok(found !== undefined, `${name}.${columnName} should exist`)
    return found as { type: string, compression_codec: string }
  }

  it('every table should be created', () => {
    assert.deepEqual(results.tables.map((t) => t.name), [...tables].sort())
    for (const t of results.tables) {
      assert.equal(t.engine, 'ReplacingMergeTree', `${t.name as string} engine`)
    }
  })

  it('sample and event times should be DateTime64(3)', () => {
    for (const name of ['host_samples', 'filesystem_samples', 'interface_samples'] as const) {
      assert.equal(column(name, 'time').type, 'DateTime64(3)', `${name}.time`)
    }
    assert.equal(column('events', 'timestamp').type, 'DateTime64(3)')
  })

  it('host ids and other labels should be LowCardinality(String)', () => {
    for (const name of ['events', 'host_samples', 'filesystem_samples', 'interface_samples'] as const) {
      assert.equal(column(name, 'host_id').type, 'LowCardinality(String)', `${name}.host_id`)
    }
    assert.equal(column('filesystem_samples', 'mount').type, 'LowCardinality(String)')
    assert.equal(column('interface_samples', 'interface').type, 'LowCardinality(String)')
    assert.equal(column('dead_letters', 'reason').type, 'LowCardinality(String)')
  })

  it('time series and blob columns should carry a compression codec', () => {
    const expected: Array<[Table, string, RegExp]> = [
      ['host_samples', 'time', /DoubleDelta/],
      ['host_samples', 'seq', /DoubleDelta/],
      ['host_samples', 'cpu_busy', /Gorilla/],
      ['host_samples', 'mem_used_bytes', /T64/],
      ['filesystem_samples', 'used_bytes', /T64/],
      ['filesystem_samples', 'used_pct', /Gorilla/],
      ['interface_samples', 'rx_bytes', /DoubleDelta/],
      ['interface_samples', 'rx_bytes_per_sec', /Gorilla/],
      ['events', 'message', /ZSTD/],
      ['dead_letters', 'value_base64', /ZSTD/]
    ]
    for (const [name, columnName, codec] of expected) {
      assert.match(column(name, columnName).compression_codec, codec, `${name}.${columnName}`)
    }
    // and only where the DDL asks for one
    assert.equal(column('host_samples', 'host_id').compression_codec, '')
    assert.equal(column('dead_letters', 'detail').compression_codec, '')
  })

  it('events and sample tables should expire rows by TTL, dead letters never', () => {
    for (const t of results.tables) {
      const ttl = t.name === 'dead_letters' ? undefined : /TTL toDateTime\((time|timestamp)\) \+ /
      for (const text of [t.engine_full, t.create_table_query] as string[]) {
        if (ttl === undefined) {
          assert.doesNotMatch(text, /\bTTL\b/, `${t.name as string}`)
        } else {
          assert.match(text, ttl, `${t.name as string}`)
        }
      }
    }
  })

  it('every row built should be stored', () => {
    const [once] = results.once
    assert.equal(rows.events.length, events.length)
    assert.equal(rows.dead_letters.length, 1)
    for (const name of tables) {
      assert.ok(rows[name].length > 0, `${name} should have rows to insert`)
      assert.equal(Number(once[name]), rows[name].length, name)
    }
  })

  it('the same rows inserted twice should count once with FINAL', () => {
    const [final] = results.twice_final
    for (const name of tables) {
      assert.equal(Number(final[name]), rows[name].length, name)
    }
  })

  it('DateTime64 columns should keep the milliseconds of the sample time', () => {
    const byKey = new Map(events.map((event) => [`${event.host.id}/${event.seq}`, event.time]))
    assert.ok(new Set(events.map((event) => event.time % 1000)).size > 2,
      'the events should have several different milliseconds')
    for (const row of [...results.host_times, ...results.sample_times]) {
      assert.equal(Number(row.ms), byKey.get(`${row.host_id as string}/${row.seq as string}`),
        `${row.host_id as string} seq ${row.seq as string}`)
    }
    assert.equal(results.sample_times.length,
      rows.filesystem_samples.length + rows.interface_samples.length)

    const sent = new Map(messages.map((m) => [eventId(m.partition, m.offset), m.timestamp]))
    assert.equal(results.event_times.length, messages.length)
    for (const row of results.event_times) {
      assert.equal(Number(row.ms), sent.get(Number(row.id)), `event ${row.id as string}`)
    }
  })

  it('row values should survive the trip: counters exact, a failed family NULL', () => {
    assert.equal(results.host_times.length, events.length)
    const byKey = new Map(events.map((event) => [`${event.host.id}/${event.seq}`, event]))
    for (const row of results.host_times) {
      const event = byKey.get(`${row.host_id as string}/${row.seq as string}`) as SampleEvent
      assert.equal(Number(row.mem_total_bytes), event.memory?.totalBytes)
      assert.deepEqual(row.failed_families, event.failures.map((failure) => failure.family))
      if (event.cpu === undefined) {
        assert.equal(row.cpu_busy, null)
        assert.equal(row.cpu_user, null)
      } else {
        assert.equal(float32(row.cpu_busy), Math.fround(event.cpu.total.busy))
      }
    }
    assert.ok(results.host_times.some((row) => row.cpu_busy === null), 'one sample failed CPU')

    const stored = new Map(results.event_times.map((row) => [Number(row.id), row.message]))
    messages.forEach((message, i) => {
      const text = stored.get(eventId(message.partition, message.offset)) as string
      assert.deepEqual(JSON.parse(text), events[i])
    })
    assert.deepEqual(results.dead_letters, [{ reason: 'not_utf8', intact: 1, value_bytes: 4 }])
  })

  it('the live view queries should run and give one row per host', async () => {
    const summaries = await liveViewFromResults()
    const hostIds = [...new Set(events.map((event) => event.host.id))].sort()
    assert.deepEqual(summaries.map((summary) => summary.host_id), hostIds)
    assert.equal(results.live0.length, hostCount)

    for (const summary of summaries) {
      const newest = newestOf(summary.host_id)
      assert.equal(summary.hostname, newest.host.name)
      assert.match(summary.time, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/)
      assert.ok(summary.fullest_disk_pct !== null && summary.fullest_disk_mount !== '',
        `${summary.host_id} should show its fullest disk`)
    }
  })

  it('the live view should show NULL for a family its newest sample failed, not an older value',
    async () => {
      const summaries = await liveViewFromResults()
      for (const summary of summaries) {
        const newest = newestOf(summary.host_id)
        const expected = newest.cpu === undefined ? null : Math.fround(newest.cpu.total.busy)
        assert.equal(float32(summary.cpu_busy), expected, `${summary.host_id} cpu_busy`)
      }
      assert.ok(summaries.some((summary) => newestOf(summary.host_id).cpu === undefined))
    })

  it('the legacy DDL should use no feature an 18.16 server lacks', () => {
    const statements = ddl(legacyFeatures)
    assert.equal(statements.length, ddl(modernFeatures).length)
    for (const statement of statements) {
      assert.doesNotMatch(statement, /DateTime64|CODEC|\bTTL\b|LowCardinality/)
    }
    // the check above would pass on an empty list; the modern DDL does use them
    assert.match(ddl(modernFeatures).join('\n'), /DateTime64[\s\S]*CODEC[\s\S]*TTL/)
  })

  const newestOf = (hostId: string) =>
    events.filter((event) => event.host.id === hostId).at(-1) as SampleEvent

  it('the completeness query should count every stored sample as expected', async () => {
    const hosts = await replayed((store) => completenessPerHost(store))
    assert.equal(hosts.length, new Set(events.map((event) => event.host.id)).size)
    for (const host of hosts) {
      const taken = events.filter((event) => event.host.id === host.host_id)
      assert.equal(host.stored, taken.length, `${host.host_id} stored`)
      assert.equal(host.expected, taken.length, `${host.host_id} expected`)
      assert.equal(host.agent_runs, 1)
    }
  })

  /** `latestPerHost` fed with what chdb answered to each of its queries. */
  async function liveViewFromResults (): Promise<HostSummary[]> {
    return await replayed((store) => latestPerHost(store))
  }

  /** Runs `read` with a store that answers each query with what chdb answered to it. */
  async function replayed<T> (read: (store: Store) => Promise<T>): Promise<T> {
    const refused = queries.flatMap((sql, i) => {
      const error = errors[`live${i}`]
      return error === undefined ? [] : [`${error}\n${sql}`]
    })
    if (refused.length > 0) {
      assert.fail(`${refused.length} live view queries were refused:\n${refused.join('\n\n')}`)
    }
    const answers = new Map(queries.map((sql, i) => [sql, results[`live${i}`]]))
    const replay = {
      table,
      query: async (sql: string, params: Record<string, ParamValue>) =>
        answers.get(bindLiterals(sql, params)) ?? assert.fail('an uncaptured query was sent')
    }
    return await read(replay as unknown as Store)
  }
})
