import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createFleet } from '../../src/agent/simulate.ts'
import type { Settings } from '../../src/config/index.ts'
import { encodeEvent, type SampleEvent } from '../../src/event/index.ts'
import { emptyRows, RowBuilder, type Rows } from '../../src/ingest/index.ts'
import { componentLogger } from '../../src/log.ts'
import { completenessPerHost, latestPerHost, migrate, Store } from '../../src/store/index.ts'
import { isolatedSettings } from '../helpers/stack.ts'

/**
 * The live view and completeness queries on the real 18.16 server, right after every message
 * was delivered twice: the copies are still in separate parts, as after an ingest crash.
 */
const tables = ['events', 'host_samples', 'filesystem_samples', 'interface_samples'] as const

describe('the host queries after a redelivery', { timeout: 60_000 }, () => {
  let settings: Settings
  let store: Store
  const events: SampleEvent[] = []
  const samplesPerHost = 3

  before(async () => {
    settings = await isolatedSettings()
    store = await Store.connect(settings.clickhouse)
    await migrate(store, componentLogger('test'))

    const fleet = createFleet(3, { seed: 5, intervalMs: 10_000 })
    const start = Math.floor(Date.now() / 10_000) * 10_000 - samplesPerHost * 10_000
    for (let i = 0; i < samplesPerHost; i++) {
      for (const host of fleet) events.push(host.sample(start + i * 10_000))
    }
    const builder = new RowBuilder(store.features)
    const rows: Rows = emptyRows()
    events.forEach((event, offset) => {
      builder.addEvent(rows, {
        topic: settings.kafka.topic,
        partition: 0,
        offset: BigInt(offset),
        timestamp: event.time,
        key: Buffer.from(event.host.id),
        value: encodeEvent(event)
      }, event)
    })
    // Unmerged copies are what the queries must see through; a merge would hide them.
    for (const table of tables) await store.command(`SYSTEM STOP MERGES ${store.table(table)}`)
    for (let copy = 0; copy < 2; copy++) {
      for (const table of tables) {
        await store.insert(table, rows[table])
      }
    }
  })

  after(async () => {
    if (store === undefined) return
    await store.command(`DROP DATABASE IF EXISTS ${settings.clickhouse.database}`)
    await store.close()
  })

  const newestOf = (hostId: string) =>
    events.filter((event) => event.host.id === hostId).at(-1) as SampleEvent
  const rate = (event: SampleEvent, direction: 'rxBytes' | 'txBytes') => (event.network ?? [])
    .filter((nic) => nic.name !== 'lo')
    .reduce((sum, nic) => sum + (nic.perSecond?.[direction] ?? 0), 0)

  it('the live view should count each interface of the newest sample once', async () => {
    const copies = await store.query<{ n: string }>(
      `SELECT count() AS n FROM ${store.table('interface_samples')}`)
    const interfaces = events.reduce((sum, event) => sum + (event.network?.length ?? 0), 0)
    assert.equal(Number(copies[0].n), 2 * interfaces, 'both copies should still be there')

    const hosts = await latestPerHost(store)
    assert.equal(hosts.length, 3)
    for (const host of hosts) {
      const newest = newestOf(host.host_id)
      assert.ok(rate(newest, 'rxBytes') > 0, 'the fleet should have traffic to sum')
      assert.ok(Math.abs((host.rx_bytes_per_sec ?? NaN) - rate(newest, 'rxBytes')) < 1e-6 * rate(newest, 'rxBytes'),
        `${host.host_id} rx: ${host.rx_bytes_per_sec} for ${rate(newest, 'rxBytes')}`)
      assert.ok(Math.abs((host.tx_bytes_per_sec ?? NaN) - rate(newest, 'txBytes')) < 1e-6 * rate(newest, 'txBytes'),
        `${host.host_id} tx: ${host.tx_bytes_per_sec} for ${rate(newest, 'txBytes')}`)
    }
  })

  it('completeness should count each sample once', async () => {
    const hosts = await completenessPerHost(store)
    assert.equal(hosts.length, 3)
    for (const host of hosts) {
      assert.equal(host.stored, samplesPerHost, `${host.host_id} stored`)
      assert.equal(host.expected, samplesPerHost, `${host.host_id} expected`)
    }
  })
})
