import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startServer, stopServer } from '../../src/stack/index.ts'
import { eventually } from '../helpers/stack.ts'
import { alive, describeExit, Load, occurrences, Rig, seconds, terminate } from './rig.ts'

const hosts = 5

/**
 * Ingest started while neither ClickHouse nor Kafka is up yet, as happens when a whole machine
 * or deployment starts at once: it waits for each, for as long as `ingest.startWaitMs` allows,
 * then consumes as usual. Told to wait briefly, it gives up in one line and exit code 2.
 */
describe('ingest started before ClickHouse and Kafka', { timeout: 180_000 }, () => {
  const rig = new Rig('fault-start-order')
  before(async () => {
    await rig.start()
    const home = rig.home as string
    assert.ok(await stopServer(home, 'clickhouse', { timeoutMs: 5_000 }))
    assert.ok(await stopServer(home, 'kafka', { timeoutMs: 15_000 }))
  })
  after(async () => await rig.stop())

  it('should give up after the wait it is given, in one line, and stop at once on SIGTERM',
    async () => {
      const started = Date.now()
      const brief = await rig.spawn('ingest-brief', ['ingest', '--set', 'ingest.startWaitMs=3000']).exited
      const took = Date.now() - started
      assert.equal(brief.code, 2, brief.stderr)
      assert.match(brief.stderr, /^vitals: cannot reach ClickHouse at http:\/\/127\.0\.0\.1:\d+ as /m)
      assert.doesNotMatch(brief.stderr, /\n\s+at /, 'no stack trace')
      assert.ok(brief.stderr.includes('"event":"waiting_for_server"'), 'each wait should be logged')
      assert.ok(took >= 3000, `it gave up after ${seconds(took)}, before its wait was over`)

      const patient = rig.ingest('ingest-patient')
      assert.ok(await eventually(async () => occurrences(patient, 'waiting_for_server') >= 1, 30_000),
        describeExit(patient))
      const signalled = Date.now()
      patient.process.kill('SIGTERM')
      const run = await patient.exited
      assert.equal(run.code, 0, run.stderr)
      assert.ok(Date.now() - signalled < 5_000, 'SIGTERM should end the wait')
    })

  it('should wait for each server in turn, then store every sample once', async (t) => {
    const home = rig.home as string
    const ingest = rig.ingest()
    assert.ok(await eventually(async () => /waiting for ClickHouse/.test(ingest.output().stderr), 30_000),
      describeExit(ingest))

    await startServer(home, 'clickhouse')
    assert.ok(await eventually(async () => /waiting for Kafka/.test(ingest.output().stderr), 60_000),
      describeExit(ingest))
    assert.ok(alive(ingest), describeExit(ingest))

    await startServer(home, 'kafka', { readyTimeoutMs: 90_000 })
    assert.ok(await eventually(async () => /"msg":"ingest started"/.test(ingest.output().stderr), 60_000),
      describeExit(ingest))
    const waits = occurrences(ingest, 'waiting_for_server')

    const load = new Load(rig.settings, hosts, 43)
    load.start(500)
    assert.ok(await eventually(async () => (await rig.counts()).samples >= hosts * 10, 60_000),
      describeExit(ingest))
    const produced = await load.stop()
    assert.ok(await rig.storedAtLeast(produced, 60_000), describeExit(ingest))
    await rig.assertCommittedToEnd(ingest)
    const run = await terminate(ingest)
    assert.equal(run.code, 0, run.stderr)

    t.diagnostic(`ingest logged ${waits} waits before both servers were up`)
    await rig.assertExactlyStored(t, produced, 'start before the servers')
  })
})
