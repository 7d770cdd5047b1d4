import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import type { Settings } from '../../src/config/index.ts'
import { Store } from '../../src/store/index.ts'
import { envFor, startVitals } from '../helpers/cli.ts'
import { eventually, isolatedSettings } from '../helpers/stack.ts'

/**
 * The agent and ingest as separate processes, stopped by signals the way an operator or a
 * service manager stops them: every sample taken must end up stored, and offsets committed.
 */
describe('stopping with SIGINT and SIGTERM', { timeout: 120_000 }, () => {
  let settings: Settings
  let store: Store

  before(async () => {
    settings = await isolatedSettings()
    store = await Store.connect(settings.clickhouse)
  })

  after(async () => {
    await store?.command(`DROP DATABASE IF EXISTS ${settings.clickhouse.database}`)
    await store?.close()
  })

  it('should store every sample the agent took when both stop on a signal', async () => {
    const env = { ...envFor(settings), VITALS_INGEST_GROUP: settings.ingest.groupId }
    const ingest = startVitals(['ingest', '--set', `ingest.groupId=${settings.ingest.groupId}`,
      '--set', 'ingest.maxBatchMs=5000'], env)
    const agent = startVitals(['agent', '--interval', '1s', '--set', 'agent.hostId=shutdown-test'], env)

    assert.ok(await eventually(async () => /"samples_sent"|agent started/.test(agent.output().stderr), 30_000))
    await sleep(4500)
    const stopAt = Date.now()
    agent.process.kill('SIGINT')
    const agentRun = await agent.exited
    assert.equal(agentRun.code, 0, agentRun.stderr)
    const stopped = /"sent":(\d+),"undelivered":(\d+)/.exec(agentRun.stderr)
    assert.ok(stopped !== null, 'the agent should report what it sent')
    const sent = Number(stopped[1])
    assert.ok(sent >= 3, `sent ${sent}`)
    assert.equal(Number(stopped[2]), 0)

    // Ingest holds a partial batch (5 s bound): SIGTERM must write and commit it.
    await sleep(500)
    ingest.process.kill('SIGTERM')
    const ingestRun = await ingest.exited
    assert.equal(ingestRun.code, 0, ingestRun.stderr)
    assert.ok(Date.now() - stopAt < 15_000, 'both should stop within 15 s')

    const rows = await store.query<{ n: string, distinct_seq: string, max_seq: string }>(`
      SELECT count() AS n, uniqExact(seq) AS distinct_seq, max(seq) AS max_seq
      FROM ${store.table('host_samples')} FINAL WHERE host_id = 'shutdown-test'`)
    assert.equal(Number(rows[0].n), sent, 'every sample sent should be stored')
    assert.equal(Number(rows[0].distinct_seq), sent)
    assert.equal(Number(rows[0].max_seq), sent - 1, 'no gap in the sequence')

    const committed = /"batches_committed":(\d+)/.exec(ingestRun.stderr)
    assert.ok(committed !== null && Number(committed[1]) >= 1, 'ingest should have committed')
  })
})
