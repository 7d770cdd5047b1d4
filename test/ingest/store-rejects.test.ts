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
 * by hand would be, and two events in the middle of a batch name a longer device. The other
 * tables take those events' rows before filesystem_samples refuses them.
 */

const log = componentLogger('test')
const sampleTables = ['host_samples', 'filesystem_samples', 'interface_samples'] as const

describe('messages one table refuses for their content', { timeout: 120_000 }, () => {
  let settings: Settings
  let store: Store
  let ingest: Ingest
  let ingestStore: Store
  let db: string
  const hosts = ['refused-0', 'refused-1', 'refused-2', 'refused-3', 'refused-4']
  const badHosts = ['refused-1', 'refused-3']
  let badIds: number[]

  const count = async (sql: string, params: Record<string, string | number | Array<string | number>> = {}) =>
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
          if (badHosts.includes(host)) event.filesystems![0].device = '/dev/disk/by-id/a-device-name-of-48-characters'
          return { topic: settings.kafka.topic, partition: 0, key: Buffer.from(host), value: encodeEvent(event) }
        })
      })
      const base = sent.offsets?.find((o) => o.partition === 0)?.offset
      assert.ok(base !== undefined, 'the produce should report its base offset')
      badIds = badHosts.map((host) => eventId(0, BigInt(base) + BigInt(hosts.indexOf(host))))
    } finally {
      await producer.close()
    }

    const taken = () => ingest.telemetry.get('events_stored') + ingest.telemetry.get('messages_dead_lettered')
    assert.ok(await eventually(async () => taken() >= hosts.length, 60_000),
      `ingest should take all ${hosts.length} messages; ${JSON.stringify(ingest.telemetry.snapshot())}`)
  })

  after(async () => await stopIngestAndDrop(ingest, ingestStore, store, db))

  it('should be dead letters saying what the server refused', async () => {
    const rows = await store.query<{ id: string, reason: string, detail: string }>(
      `SELECT toString(id) AS id, reason, detail FROM ${store.table('dead_letters')} FINAL ORDER BY id`)
    assert.deepEqual(rows.map((row) => Number(row.id)), badIds, JSON.stringify(rows))
    for (const row of rows) {
      assert.equal(row.reason, 'rejected_by_store')
      assert.match(row.detail, /FixedString/)
    }
    assert.equal(ingest.telemetry.get('messages_dead_lettered'), badHosts.length)
  })

  it('should leave none of their rows in any table, even those that accepted them', async () => {
    const left = async () => {
      const inSamples = await Promise.all(sampleTables.map((table) => count(
        `SELECT count() AS n FROM ${store.table(table)} WHERE has({ids:Array(UInt64)}, event_id)`,
        { ids: badIds })))
      const inEvents = await count(
        `SELECT count() AS n FROM ${store.table('events')} WHERE has({ids:Array(UInt64)}, id)`,
        { ids: badIds })
      return [...inSamples, inEvents]
    }
    // The deletes run in the background on the server.
    assert.ok(await eventually(async () => (await left()).every((n) => n === 0), 30_000),
      `rows of the refused events left in ${sampleTables.join(', ')}, events: ${(await left()).join(', ')}`)
    assert.equal(await count(`SELECT count() AS n FROM ${store.table('host_samples')}
      WHERE has({hosts:Array(String)}, host_id)`, { hosts: badHosts }), 0)
  })

  it('should not keep the other events of its batch from being stored, each once', async () => {
    const good = hosts.filter((host) => !badHosts.includes(host))
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
