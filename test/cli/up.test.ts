import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { stopStack } from '../../src/stack/index.ts'
import { isAlive } from '../../src/stack/process.ts'
import { runVitals, startVitals } from '../helpers/cli.ts'
import { eventually } from '../helpers/stack.ts'

/** The README's main command, as a newcomer runs it: no settings, its own local stack. */
describe('vitals up', { timeout: 180_000 }, () => {
  let home: string

  after(async () => {
    if (home === undefined) return
    await stopStack(join(home, 'stack'), { timeoutMs: 30_000 }).catch(() => {})
    await rm(home, { recursive: true, force: true })
  })

  it('should start everything, store this host\'s samples, and stop cleanly on Ctrl+C', async () => {
    home = await mkdtemp(join(tmpdir(), 'vitals-up-'))
    const env: NodeJS.ProcessEnv = { VITALS_HOME: home, VITALS_KAFKA_BROKERS: undefined,
      VITALS_CLICKHOUSE_URL: undefined, VITALS_TEST_STACK: undefined }
    const up = startVitals(['up', '--interval', '1s'], env)

    const ready = await eventually(async () => /stack ready|already running/.test(up.output().stderr), 120_000, 500)
    assert.ok(ready, `the stack should come up:\n${up.output().stderr.slice(-2000)}`)
    const readyAt = Date.now()

    const shown = await eventually(async () => up.output().stdout.includes(hostname()), 30_000, 500)
    assert.ok(shown, `the live view should show this host:\n${up.output().stdout.slice(-1000)}`)
    assert.ok(Date.now() - readyAt < 30_000)
    assert.match(up.output().stdout, /CPU %.*MEM %.*DISK %/)

    const counts = await runVitals(['sql', '--json', `SELECT
      (SELECT count() FROM vitals.events) AS events,
      (SELECT count() FROM vitals.host_samples) AS hosts,
      (SELECT count() FROM vitals.filesystem_samples) AS filesystems,
      (SELECT count() FROM vitals.interface_samples) AS interfaces`], env)
    assert.equal(counts.code, 0, counts.stderr)
    const row = JSON.parse(counts.stdout) as Record<string, string>
    for (const table of ['events', 'hosts', 'filesystems', 'interfaces']) {
      assert.ok(Number(row[table]) >= 1, `${table} should hold samples: ${counts.stdout}`)
    }

    const state = JSON.parse(readFileSync(join(home, 'stack', 'state.json'), 'utf8')) as
      { pids: { kafka: number, clickhouse: number } }
    const stopAt = Date.now()
    up.process.kill('SIGINT')
    const run = await up.exited
    assert.equal(run.code, 0, run.stderr.slice(-2000))
    assert.ok(Date.now() - stopAt < 15_000, `stopped in ${Date.now() - stopAt} ms`)
    assert.equal(isAlive(state.pids.kafka), false, 'Kafka should be stopped')
    assert.equal(isAlive(state.pids.clickhouse), false, 'ClickHouse should be stopped')
  })
})
