import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { eventually } from '../helpers/stack.ts'
import {
  alive, describeExit, Load, Rig, seconds, terminate, waitForBatchInFlight
} from './rig.ts'

const kills = 5
const hosts = 20
const roundEveryMs = 400 // 50 samples a second while the kills go on: a few thousand in all

/**
 * A crash between the insert and the commit is the case at-least-once exists for: the killed
 * process's uncommitted batch is read again by its successor and written a second time, and
 * the ReplacingMergeTree keys make the second copy replace the first.
 */
describe('ingest SIGKILLed mid-batch, many times in a row, under load', {
  timeout: 300_000
}, () => {
  const rig = new Rig('fault-ingest-kill', { maxBatchMs: 200 })
  before(async () => await rig.start())
  after(async () => await rig.stop())

  it('should store every sample exactly once after each kill and restart', async (t) => {
    const load = new Load(rig.settings, hosts, 11)
    load.start(roundEveryMs)

    for (let kill = 1; kill <= kills; kill++) {
      const written = (await rig.counts()).eventsRaw
      const started = Date.now()
      const ingest = rig.ingest(`ingest-${kill}`)
      // A new member consumes once the killed one's session has expired (20 s) and the group
      // has rebalanced; wait until this process has written something of its own.
      assert.ok(await eventually(async () => (await rig.counts()).eventsRaw > written, 60_000, 200),
        `ingest ${kill} should start writing\n${describeExit(ingest)}`)
      const moment = await waitForBatchInFlight(rig, Math.floor(300 + Math.random() * 1700))
      assert.ok(alive(ingest), describeExit(ingest))
      ingest.process.kill('SIGKILL')
      await ingest.exited
      t.diagnostic(`kill ${kill}: ${seconds(Date.now() - started)} after start, ${moment}, ` +
        `${(await rig.counts()).eventsRaw} event rows written so far, ${load.produced} produced`)
    }

    const produced = await load.stop()
    const last = rig.ingest('ingest-final')
    assert.ok(await rig.storedAtLeast(produced, 90_000), describeExit(last))
    // Up to a session timeout (20 s) passes before the last one may read what the last killed
    // one wrote but had not committed.
    await rig.assertCommittedToEnd(last, 45_000)
    const run = await terminate(last)
    assert.equal(run.code, 0, run.stderr)

    await rig.assertExactlyStored(t, produced, `${kills} kills`)
  })
})
