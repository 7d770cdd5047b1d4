import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Publisher } from '../../src/agent/publisher.ts'
import { createFleet } from '../../src/agent/simulate.ts'
import { startIngest } from '../../src/cli/commands/ingest.ts'
import type { Settings } from '../../src/config/index.ts'
import type { SampleEvent } from '../../src/event/index.ts'
import type { Ingest } from '../../src/ingest/index.ts'
import { kafkaConnection } from '../../src/kafka/options.ts'
import { componentLogger } from '../../src/log.ts'
import type { Store } from '../../src/store/index.ts'
import { envFor, runVitals } from '../helpers/cli.ts'
import { eventually, isolatedSettings } from '../helpers/stack.ts'

const log = componentLogger('test')

describe('vitals status', { timeout: 90_000 }, () => {
  let settings: Settings
  let ingest: Ingest
  let store: Store

  before(async () => {
    settings = await isolatedSettings()
    ;({ ingest, store } = await startIngest(settings, log))
  })

  after(async () => {
    await ingest?.stop()
    await store?.command(`DROP DATABASE IF EXISTS ${settings.clickhouse.database}`)
    await store?.close()
  })

  it('should show a gap as incomplete and a silent host as down', async () => {
    const [fresh, silent] = createFleet(2, { seed: 3, intervalMs: 10_000 })
    const now = Date.now()
    const events: SampleEvent[] = []
    for (let i = 9; i >= 0; i--) {
      const sample = fresh.sample(now - i * 10_000)
      // seq 4 never arrives: 9 of 10 stored.
      if (sample.seq !== 4) events.push(sample)
    }
    for (let i = 5; i >= 0; i--) events.push(silent.sample(now - 20 * 60_000 - i * 10_000))

    const publisher = new Publisher({ connection: kafkaConnection(settings.kafka, 'test'),
      topic: settings.kafka.topic, partition: -1, compression: 'none', bufferMaxSamples: 100, log })
    publisher.start()
    for (const event of events) publisher.publish(event)
    assert.equal(await publisher.stop(20_000), 0)
    assert.ok(await eventually(async () => ingest.telemetry.get('events_stored') >= events.length))

    const run = await runVitals(["status", "--json"], envFor(settings))
    assert.equal(run.code, 1, 'a host that is not up should make the exit code 1')
    const hosts = JSON.parse(run.stdout) as Array<{ host: string, state: string,
      completeness: number, stored: number, expected: number }>
    const byId = new Map(hosts.map((host) => [host.host, host]))
    assert.deepEqual(
      { ...byId.get(fresh.host.id), lastSample: undefined, ageSeconds: undefined },
      { ...byId.get(fresh.host.id), lastSample: undefined, ageSeconds: undefined,
        state: 'up', stored: 9, expected: 10, completeness: 0.9 })
    assert.equal(byId.get(silent.host.id)?.state, 'down')
    assert.equal(byId.get(silent.host.id)?.completeness, 1)

    const table = await runVitals(['status'], envFor(settings))
    assert.match(table.stdout, /90\.0% \(9\/10\)/)
  })
})
