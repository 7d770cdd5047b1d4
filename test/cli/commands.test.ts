import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { runVitals } from '../helpers/cli.ts'
import { testStack } from '../helpers/stack.ts'

/** A user's mistake is one line on stderr, exit code 2, never a stack trace. */
function assertOneLine (run: { code: number | null, stderr: string }, pattern: RegExp): void {
  assert.equal(run.code, 2, run.stderr)
  const lines = run.stderr.trim().split('\n')
  assert.equal(lines.length, 1, `one line expected:\n${run.stderr}`)
  assert.match(lines[0], pattern)
  assert.doesNotMatch(run.stderr, /\n\s+at /)
}

describe('command line', { timeout: 90_000 }, () => {
  it('an out-of-range setting should be one line naming the key and its source', async () => {
    assertOneLine(await runVitals(['agent', '--once', '--set', 'agent.intervalMs=5']),
      /^vitals: invalid setting agent\.intervalMs: .*1000.*--set agent\.intervalMs/)
  })

  it('a bad environment variable should name the setting and the variable', async () => {
    assertOneLine(await runVitals(['agent', '--once'], { VITALS_KAFKA_BROKERS: 'kafka-without-port' }),
      /^vitals: invalid setting kafka\.brokers\.0: expected host:port.*VITALS_KAFKA_BROKERS/)
  })

  it('an unknown option should be one line naming it', async () => {
    assertOneLine(await runVitals(['agent', '--bogus']), /^vitals: agent: .*--bogus/)
  })

  it('a bad duration should say what a duration looks like', async () => {
    assertOneLine(await runVitals(['agent', '--interval', 'soon']), /--interval: expected a duration like 10s/)
  })

  it('a missing config file should be one line naming the file', async () => {
    assertOneLine(await runVitals(['agent', '--once', '--config', '/nonexistent/vitals.yaml']),
      /config file: cannot read \/nonexistent\/vitals\.yaml/)
  })

  it('an unknown command should list the commands', async () => {
    const run = await runVitals(['frobnicate'])
    assert.equal(run.code, 2)
    assert.match(run.stderr, /unknown command "frobnicate"[\s\S]*Commands:[\s\S]*agent/)
  })

  it('stack status --json should name the running stack\'s endpoints', async () => {
    const state = await testStack()
    const run = await runVitals(['stack', 'status', '--json'], { VITALS_STACK_HOME: state.home })
    assert.equal(run.code, 0, run.stderr)
    const status = JSON.parse(run.stdout) as { running: boolean, kafka: { bootstrap: string },
      clickhouse: { url: string, database: string, user: string } }
    assert.equal(status.running, true)
    assert.equal(status.kafka.bootstrap, state.kafka.bootstrap)
    assert.deepEqual(status.clickhouse, { running: true, url: state.clickhouse.url, database: 'vitals', user: state.clickhouse.user })
    assert.doesNotMatch(run.stdout, new RegExp(state.clickhouse.password), 'no password in status')
  })

  it('sql should query the local stack without the user giving ports or passwords', async () => {
    const state = await testStack()
    const env = { VITALS_STACK_HOME: state.home }
    const tsv = await runVitals(['sql', "SELECT 1 + 1 AS two, 'a\tb' AS text"], env)
    assert.equal(tsv.code, 0, tsv.stderr)
    assert.equal(tsv.stdout, 'two\ttext\n2\ta b\n')
    const json = await runVitals(['sql', '--json', 'SELECT number AS n FROM system.numbers LIMIT 3'], env)
    assert.deepEqual(json.stdout.trim().split('\n').map((line) => JSON.parse(line)),
      [{ n: '0' }, { n: '1' }, { n: '2' }])
  })

  it('sql should refuse a statement that writes, in one line', async () => {
    const state = await testStack()
    const run = await runVitals(['sql', 'CREATE TABLE default.should_not_exist (x UInt8) ENGINE = Memory'],
      { VITALS_STACK_HOME: state.home })
    assertOneLine(run, /^vitals: sql: .*readonly/i)
    const check = await runVitals(['sql', "SELECT count() AS n FROM system.tables WHERE name = 'should_not_exist'"],
      { VITALS_STACK_HOME: state.home })
    assert.equal(check.stdout, 'n\n0\n')
  })

  it('sql without a stack or endpoints should say how to get one', async () => {
    assertOneLine(await runVitals(['sql', 'SELECT 1'], { VITALS_STACK_HOME: '/nonexistent/stack' }),
      /local stack is not running: start it with `vitals stack start`/)
  })
})
