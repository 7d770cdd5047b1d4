import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { eventually } from '../helpers/stack.ts'
import {
  alive, describeExit, Load, Rig, seconds, terminate, waitForBatchInFlight
} from './rig.ts'

const partitions = 4
const hosts = 20 // keys enough to give every partition some hosts

/**
 * Two ingest processes share the topic; one dies without leaving the group. When its session
 * expires the group rebalances and the survivor resumes the dead member's partitions from their
 * last committed offsets.
 */
describe('two ingest processes in one group, one SIGKILLed', { timeout: 180_000 }, () => {
  const rig = new Rig('fault-takeover', { partitions, maxBatchMs: 200 })
  before(async () => await rig.start())
  after(async () => await rig.stop())

  it('the survivor should take over the partitions and store every sample once', async (t) => {
    const load = new Load(rig.settings, hosts, 23)
    load.start(400)
    const victim = rig.ingest('ingest-victim')
    const survivor = rig.ingest('ingest-survivor')

    let shares: number[][] = []
    assert.ok(await eventually(async () => {
      shares = await rig.members()
      return shares.length === 2 && shares.every((held) => held.length > 0)
    }, 60_000, 500), `both should hold partitions: ${JSON.stringify(shares)}`)
    assert.ok(await eventually(async () =>
      (await rig.offsets()).committed.every((offset) => offset > 0), 30_000),
    'both should be committing')
    t.diagnostic(`partitions held: ${JSON.stringify(shares)}`)

    const moment = await waitForBatchInFlight(rig, 2000)
    victim.process.kill('SIGKILL')
    await victim.exited
    const killedAt = Date.now()

    assert.ok(await eventually(async () => {
      shares = await rig.members()
      return shares.length === 1 && shares[0].length === partitions
    }, 60_000, 500), `the survivor should hold all partitions: ${JSON.stringify(shares)}`)
    t.diagnostic(`killed at ${moment}; survivor holds ${JSON.stringify(shares[0])} ` +
      `${seconds(Date.now() - killedAt)} later`)

    const produced = await load.stop()
    assert.ok(await rig.storedAtLeast(produced, 60_000), describeExit(survivor))
    await rig.assertCommittedToEnd(survivor)
    assert.ok(alive(survivor), describeExit(survivor))
    const run = await terminate(survivor)
    assert.equal(run.code, 0, run.stderr)

    await rig.assertExactlyStored(t, produced, 'takeover')
  })
})
