import assert from 'node:assert/strict'
import { once } from 'node:events'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { ClickHouseLogLevel, createClient } from '@clickhouse/client'
import { Admin } from '@platformatic/kafka'
import { ErrorCodes, type VitalsError } from '../../src/errors.ts'
import { startStack, stackStatus, stopStack, type StackState } from '../../src/stack/index.ts'
import { stateFile } from '../../src/stack/state.ts'
import { isAlive } from '../../src/stack/process.ts'
import { freePorts } from '../helpers/ports.ts'

describe('local stack', { timeout: 150_000 }, () => {
  let home: string
  let state: StackState

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'vitals-stack-'))
    const [kafka, kafkaController, clickhouseHttp, clickhouseTcp] = await freePorts(4)
    const result = await startStack({
      home,
      ports: { kafka, kafkaController, clickhouseHttp, clickhouseTcp },
      readyTimeoutMs: 60_000
    })
    state = result.state
    assert.equal(result.reused, false)
    assert.equal(state.ports.kafka, kafka)
  })

  after(async () => {
    if (home === undefined) return
    await stopStack(home, { timeoutMs: 20_000 }).catch(() => {})
    await rm(home, { recursive: true, force: true })
  })

  it('kafka should answer metadata and create a topic', async () => {
    const admin = new Admin({ clientId: 'stack-test', bootstrapBrokers: [state.kafka.bootstrap] })
    try {
      const metadata = await admin.metadata({ topics: [] })
      assert.equal(metadata.brokers.size, 1)
      await admin.createTopics({ topics: ['stack-test'], partitions: 2, replicas: 1 })
      assert.ok((await admin.listTopics()).includes('stack-test'))
    } finally {
      await admin.close()
    }
  })

  it('clickhouse should answer the vitals user and have the vitals database', async () => {
    const client = createClient({
      url: state.clickhouse.url,
      username: state.clickhouse.user,
      password: state.clickhouse.password,
      database: state.clickhouse.database
    })
    try {
      const result = await client.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })
      const [row] = await result.json<{ v: string }>()
      assert.match(row.v, /^18\.16\./)
    } finally {
      await client.close()
    }
  })

  it('clickhouse should reject a wrong password and the default user without one', async () => {
    for (const [username, password] of [['vitals', 'wrong'], ['default', '']]) {
      const client = createClient({
        url: state.clickhouse.url, username, password, log: { level: ClickHouseLogLevel.OFF }
      })
      try {
        await assert.rejects(client.query({ query: 'SELECT 1', format: 'JSONEachRow' }),
          /password/i, `${username} should be refused`)
      } finally {
        await client.close()
      }
    }
  })

  it('the state file should be private to its owner', async () => {
    assert.equal((await stat(stateFile(home))).mode & 0o777, 0o600)
  })

  it('stackStatus should report a running stack with its endpoints', async () => {
    const status = await stackStatus(home)
    assert.deepEqual({ ...status, state: undefined },
      { running: true, kafka: true, clickhouse: true, state: undefined })
    assert.equal(status.state?.kafka.bootstrap, state.kafka.bootstrap)
    assert.equal(status.state?.clickhouse.url, state.clickhouse.url)
  })

  it('a second start should reuse the running stack', async () => {
    const again = await startStack({ home })
    assert.equal(again.reused, true)
    assert.deepEqual(again.state.pids, state.pids)
  })

  it('a start after ClickHouse died should restart the whole stack', async () => {
    process.kill(state.pids.clickhouse, 'SIGKILL')
    const restarted = await startStack({ home, readyTimeoutMs: 60_000 })
    assert.equal(restarted.reused, false)
    assert.notEqual(restarted.state.pids.clickhouse, state.pids.clickhouse)
    assert.equal(isAlive(state.pids.kafka), false, 'the old Kafka should have been stopped')
    assert.deepEqual(restarted.state.ports, state.ports)
    assert.equal(restarted.state.clickhouse.password, state.clickhouse.password)
    assert.equal((await stackStatus(home)).running, true)
    state = restarted.state
  })

  it('stopStack should stop both servers', async () => {
    assert.equal(await stopStack(home), true)
    assert.equal(isAlive(state.pids.kafka), false)
    assert.equal(isAlive(state.pids.clickhouse), false)
    assert.equal((await stackStatus(home)).running, false)
    assert.equal(await stopStack(home), false)
  })
})

describe('local stack failures', { timeout: 60_000 }, () => {
  let home: string

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'vitals-stack-'))
  })

  after(async () => {
    if (home === undefined) return
    await stopStack(home, { timeoutMs: 20_000 }).catch(() => {})
    await rm(home, { recursive: true, force: true })
  })

  it('a port already in use should be refused before anything starts', async () => {
    const busy = createServer().listen(0, '127.0.0.1')
    await once(busy, 'listening')
    try {
      const port = (busy.address() as AddressInfo).port
      await assert.rejects(startStack({ home, ports: { clickhouseHttp: port } }),
        { code: ErrorCodes.STACK_PROCESS, message: new RegExp(`port ${port}`) })
    } finally {
      busy.close()
    }
  })

  it('a server that is not ready in time should fail with its log and leave nothing running',
    async () => {
      const error = await startStack({ home, readyTimeoutMs: 500 }).then(
        () => assert.fail('should have timed out'), (error: unknown) => error as VitalsError)
      assert.equal(error.code, ErrorCodes.STACK_TIMEOUT)
      assert.match(error.message, /kafka\/logs\/server\.log/)
      const status = await stackStatus(home)
      assert.deepEqual(status.state?.pids, { kafka: 0, clickhouse: 0 })
    })
})
