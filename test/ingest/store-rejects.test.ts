import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Producer } from '@platformatic/kafka'
import { startIngest } from '../../src/cli/commands/ingest.ts'
import type { Settings } from '../../src/config/index.ts'
import { encodeEvent } from '../../src/event/index.ts'
import { eventId, type Ingest } from '../../src/ingest/index.ts'
import { componentLogger } from '../../src/log.ts'
import { migrate, Store } from '../../src/store/index.ts'
import { validEvent } from '../helpers/messages.ts'
import { eventually, isolatedSettings, stopIngestAndDrop } from '../helpers/stack.ts'

/**
 * A message the decoder accepts can still be refused by one table and not the others: here the
 * filesystem device column is narrowed to FixedString(16) after migration, as a schema changed
 * by hand would be, and one event in the middle of a batch names a longer device. The other
 * tables take that event's rows before filesystem_samples refuses them.
 */

const log = componentLogger('test')
const sampleTables = ['host_samples', 'filesystem_samples', 'interface_samples'] as const

describe('a message one table refuses for its content', { timeout: 120_000 }, () => {
  let settings: Settings
  let store: Store
  let ingest: Ingest
  let ingestStore: Store
  let db: string
  const hosts = ['refused-0', 'refused-1', 'refused-2', 'refused-3', 'refused-4']
  const badHost = 'refused-2'
  let badId: number

  const count = async (sql: string, params: Record<string, string | number> = {}) =>
    Number((await store.query<{ n: string }>(sql, params))[0].n)

  before(async () => {
    settings = await isolatedSettings((s) => { s.kafka.partitions = 1 })
    db = settings.clickhouse.database
    store = await Store.connect(settings.clickhouse)
    await migrate(store, log)
    await store.command(`ALTER TABLE ${store.table('filesystem_samples')}
      MODIFY COLUMN device FixedString(16)`)
    ;({ ingest, store: ingestStore } = await startIngest(settings, log))

    const now = Date.now()
    const producer = new Producer({ clientId: 'test-store-rejects', bootstrapBrokers: settings.kafka.brokers })
    try {
      const sent = await producer.send({
        messages: hosts.map((host, i) => {
          const event = validEvent(host, now - 30_000, i + 1)
          if (host === badHost) event.filesystems![0].device = '/dev/disk/by-id/a-device-name-of-48-characters'
          return { topic: settings.kafka.topic, partition: 0, key: Buffer.from(host), value: encodeEvent(event) }
        })
      })
      const base = sent.offsets?.find((o) => o.partition === 0)?.offset
      assert.ok(base !== undefined, 'the produce should report its base offset')
      badId = eventId(0, BigInt(base) + BigInt(hosts.indexOf(badHost)))
    } finally {
      await producer.close()
    }

    const taken = () => ingest.telemetry.get('events_stored') + ingest.telemetry.get('messages_dead_lettered')
    assert.ok(await eventually(async () => taken() >= hosts.length, 60_000),
      `ingest should take all ${hosts.length} messages; ${JSON.stringify(ingest.telemetry.snapshot())}`)
  })

  after(async () => await stopIngestAndDrop(ingest, ingestStore, store, db))

  it('should be a dead letter saying what the server refused', async () => {
    const rows = await store.query<{ id: string, reason: string, detail: string }>(
      `SELECT toString(id) AS id, reason, detail FROM ${store.table('dead_letters')} FINAL`)
    assert.equal(rows.length, 1, JSON.stringify(rows))
    assert.equal(Number(rows[0].id), badId)
    assert.equal(rows[0].reason, 'rejected_by_store')
    assert.match(rows[0].detail, /FixedString/)
    assert.equal(ingest.telemetry.get('messages_dead_lettered'), 1)
  })

  it('should leave none of its rows in any table, even those that accepted them', async () => {
    const left = async () => {
      const inSamples = await Promise.all(sampleTables.map((table) => count(
        `SELECT count() AS n FROM ${store.table(table)} WHERE event_id = {id:UInt64}`, { id: badId })))
      const inEvents = await count(
        `SELECT count() AS n FROM ${store.table('events')} WHERE id = {id:UInt64}`, { id: badId })
      return [...inSamples, inEvents]
    }
    // The deletes run in the background on the server.
    assert.ok(await eventually(async () => (await left()).every((n) => n === 0), 30_000),
      `rows of the refused event left in ${sampleTables.join(', ')}, events: ${(await left()).join(', ')}`)
    assert.equal(await count(`SELECT count() AS n FROM ${store.table('host_samples')}
      WHERE host_id = {host:String}`, { host: badHost }), 0)
  })

  it('should not keep the other events of its batch from being stored, each once', async () => {
    const good = hosts.filter((host) => host !== badHost)
    for (const table of [...sampleTables, 'events'] as const) {
      const stored = await store.query<{ host_id: string }>(
        `SELECT DISTINCT host_id FROM ${store.table(table)} ORDER BY host_id`)
      assert.deepEqual(stored.map((row) => row.host_id), good, table)
    }
    assert.equal(await count(`SELECT count() AS n FROM ${store.table('host_samples')} FINAL`), good.length)
    assert.equal(await count(`SELECT count() AS n FROM ${store.table('events')} FINAL`), good.length)
    assert.equal(ingest.telemetry.get('events_stored'), good.length)
  })
})
