import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { stackStatus, stopStack } from '../../src/stack/index.ts'
import { canConnect } from '../../src/stack/ports.ts'
import { runVitals } from '../helpers/cli.ts'

/** Gone, or a zombie its new parent has not reaped yet: either way it has exited. */
function exited (pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')
  } catch {
    return true
  }
}

interface Endpoints {
  kafka: { bootstrap: string }
  clickhouse: { url: string, user: string, database: string }
}

/** `vitals stack start` and `stop` as an operator runs them, in a home of their own. */
describe('vitals stack start and stop', { timeout: 180_000 }, () => {
  let home: string | undefined

  after(async () => {
    if (home === undefined) return
    // Only if a step below failed is anything still running.
    await stopStack(join(home, 'stack'), { timeoutMs: 30_000 })
    await rm(home, { recursive: true, force: true })
  })

  it('start should print the endpoints, a second start reuse them, and stop end both servers', async () => {
    home = await mkdtemp(join(tmpdir(), 'vitals-cli-stack-'))
    const env = { VITALS_STACK_HOME: join(home, 'stack') }

    const first = await runVitals(['stack', 'start', '--json'], env, 150_000)
    assert.equal(first.code, 0, first.stderr)
    const endpoints = JSON.parse(first.stdout) as Endpoints
    assert.match(endpoints.kafka.bootstrap, /^127\.0\.0\.1:\d+$/)
    assert.match(endpoints.clickhouse.url, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.equal(endpoints.clickhouse.database, 'vitals')
    assert.match(first.stderr, /stack ready/)
    const port = Number(endpoints.kafka.bootstrap.split(':')[1])
    assert.ok(await canConnect(port), 'Kafka should listen where start said')

    const again = await runVitals(['stack', 'start', '--json'], env)
    assert.equal(again.code, 0, again.stderr)
    assert.deepEqual(JSON.parse(again.stdout), endpoints, 'a running stack should be reused')
    assert.match(again.stderr, /already running/)

    const state = (await stackStatus(env.VITALS_STACK_HOME)).state
    const pids = state?.pids
    assert.ok(pids !== undefined && pids.kafka > 0 && pids.clickhouse > 0)
    const stop = await runVitals(['stack', 'stop'], env, 60_000)
    assert.equal(stop.code, 0, stop.stderr)
    for (const pid of [pids.kafka, pids.clickhouse]) {
      assert.ok(exited(pid), `process ${pid} should have exited`)
    }
    assert.equal((await stackStatus(env.VITALS_STACK_HOME)).running, false)
  })
})
