import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { eventually } from '../helpers/stack.ts'
import { alive, describeExit, Rig, terminate } from './rig.ts'

const hostId = 'fault-agent-kill'

/**
 * An agent killed with SIGKILL loses what it had not yet handed to Kafka (its buffer: with
 * Kafka up, at most the sample being sent). What Kafka received is stored, and a run's samples
 * stay a gap-free prefix of its seq. The restarted agent is a new run: a new agent_started_at,
 * seq from 0.
 */
describe('agent SIGKILLed and restarted', { timeout: 150_000 }, () => {
  const rig = new Rig('fault-agent-kill')
  before(async () => await rig.start())
  after(async () => await rig.stop())

  it('should store two runs, each from seq 0 without a gap, and all Kafka received', async (t) => {
    const ingest = rig.ingest()
    const first = rig.agent(hostId, 'agent-1')
    assert.ok(await eventually(async () => (await rig.counts()).samples >= 4, 60_000),
      describeExit(first))
    first.process.kill('SIGKILL')
    await first.exited

    const second = rig.agent(hostId, 'agent-2')
    assert.ok(await eventually(async () => {
      const { runs } = await rig.counts()
      return runs.length === 2 && runs[1].samples >= 4
    }, 60_000), describeExit(second))
    const run = await terminate(second, 'SIGINT')
    assert.equal(run.code, 0, run.stderr)
    const sent = /"sent":(\d+),"undelivered":(\d+)/.exec(run.stderr)
    assert.ok(sent !== null && sent[2] === '0', 'the second run should deliver everything at stop')

    // The first run's count is what Kafka received from it; nobody can say more after SIGKILL.
    const { end } = await rig.offsets()
    const received = end.reduce((a, b) => a + b, 0)
    assert.ok(await rig.storedAtLeast(received, 30_000), describeExit(ingest))
    await rig.assertCommittedToEnd(ingest)
    assert.ok(alive(ingest), describeExit(ingest))
    const ingestRun = await terminate(ingest)
    assert.equal(ingestRun.code, 0, ingestRun.stderr)

    const counts = await rig.assertExactlyStored(t, received, 'agent kill')
    assert.equal(counts.runs.length, 2, 'two runs, told apart by agent_started_at')
    const [killed, stopped] = counts.runs
    assert.ok(killed.agentStartedAt < stopped.agentStartedAt)
    assert.equal(stopped.samples, Number(sent[1]), 'the stopped run: every sample it sent')
    assert.equal(killed.samples, received - Number(sent[1]),
      'the killed run: every sample Kafka holds beside the stopped run\'s')
    t.diagnostic(`run 1 (SIGKILLed): ${killed.samples} samples stored, seq 0..${killed.maxSeq}; ` +
      `run 2 (SIGINT): ${stopped.samples} sent and stored, seq 0..${stopped.maxSeq}`)
  })
})
