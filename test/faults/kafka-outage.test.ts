import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { startServer, stopServer } from '../../src/stack/index.ts'
import { eventually } from '../helpers/stack.ts'
import {
  alive, describeExit, occurrences, Rig, seconds, terminate
} from './rig.ts'

const outageMs = 10_000
const hostId = 'fault-kafka-outage'

/**
 * The broker goes away while an agent keeps sampling every second. The agent holds its samples
 * in its buffer and delivers them, in order, when the broker is back; ingest reconnects by
 * itself and stores them.
 */
describe('Kafka broker stopped and restarted while an agent keeps sampling', {
  timeout: 180_000
}, () => {
  const rig = new Rig('fault-kafka-outage')
  before(async () => await rig.start())
  after(async () => await rig.stop())

  it('should deliver and store every sample taken during the outage, with no gap', async (t) => {
    const ingest = rig.ingest()
    const agent = rig.agent(hostId)
    const stored = async (): Promise<number> => (await rig.counts()).samples
    assert.ok(await eventually(async () => (await stored()) >= 3, 60_000), describeExit(agent))

    const stoppedAt = Date.now()
    assert.ok(await stopServer(rig.home as string, 'kafka', { timeoutMs: 15_000 }))
    const beforeOutage = await stored()
    await sleep(outageMs)
    await startServer(rig.home as string, 'kafka', { readyTimeoutMs: 90_000 })
    const down = Date.now() - stoppedAt
    assert.ok(alive(agent), describeExit(agent))
    assert.ok(alive(ingest), describeExit(ingest))

    // A sample a second was taken all along: the stored count catches up with the clock.
    const due = beforeOutage + Math.floor(down / 1000) + 1
    assert.ok(await eventually(async () => (await stored()) >= due, 60_000),
      `the samples of the outage should arrive\n${describeExit(agent)}\n${describeExit(ingest)}`)
    const caughtUp = Date.now() - stoppedAt

    const agentRun = await terminate(agent, 'SIGINT')
    assert.equal(agentRun.code, 0, agentRun.stderr)
    const stopped = /"sent":(\d+),"undelivered":(\d+)/.exec(agentRun.stderr)
    assert.ok(stopped !== null, 'the agent should report what it sent')
    const produced = Number(stopped[1])
    assert.ok(occurrences(agent, 'kafka_unreachable') >= 1, 'the agent should notice the outage')
    assert.ok(occurrences(agent, 'kafka_reachable_again') >= 1, 'and the end of it')

    assert.ok(await rig.storedAtLeast(produced, 30_000), describeExit(ingest))
    await rig.assertCommittedToEnd(ingest)
    assert.ok(alive(ingest), describeExit(ingest))
    const ingestRun = await terminate(ingest)
    assert.equal(ingestRun.code, 0, ingestRun.stderr)

    const resumed = occurrences(ingest, 'consumer_resumed')
    t.diagnostic(`Kafka down ${seconds(down)}, all caught up ${seconds(caughtUp)} after the stop; ` +
      `${produced - beforeOutage} samples taken from the stop on; ingest consumer errors ` +
      `${occurrences(ingest, 'consumer_error')}, streams resumed ${resumed}`)
    assert.ok(resumed >= 1, 'ingest should have resumed consuming')
    const counts = await rig.assertExactlyStored(t, produced, 'Kafka outage')
    assert.equal(counts.runs.length, 1, 'one agent run')
  })
})
