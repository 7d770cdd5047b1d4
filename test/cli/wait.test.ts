import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createClient } from '@clickhouse/client'
import { Admin, AuthenticationError, MultipleErrors, ProtocolError } from '@platformatic/kafka'
import { isUnreachable, whileUnreachable } from '../../src/cli/wait.ts'
import { ErrorCodes, UserError } from '../../src/errors.ts'
import { componentLogger } from '../../src/log.ts'
import { freePort } from '../helpers/ports.ts'

const log = componentLogger('test')

/** The errors the real clients raise for a port nothing listens on. */
async function refusedErrors (): Promise<{ clickhouse: unknown, kafka: unknown }> {
  const port = await freePort()
  const client = createClient({ url: `http://127.0.0.1:${port}`, log: { level: 127 } })
  const clickhouse = await client.query({ query: 'SELECT 1' }).then(() => undefined, (error) => error)
  await client.close()
  const admin = new Admin({ clientId: 'test-wait', bootstrapBrokers: [`127.0.0.1:${port}`], retries: 0 })
  const kafka = await admin.listTopics().then(() => undefined, (error) => error)
  await admin.close()
  return { clickhouse, kafka }
}

describe('isUnreachable', () => {
  it('should see a refused connection in both clients\' errors, however wrapped', async () => {
    const { clickhouse, kafka } = await refusedErrors()
    assert.ok(clickhouse instanceof Error && kafka instanceof Error, 'both connections should fail')
    assert.ok(isUnreachable(clickhouse), String(clickhouse))
    assert.ok(isUnreachable(kafka), String(kafka))
    const wrapped = new UserError(ErrorCodes.STORE_UNAVAILABLE, 'cannot reach ClickHouse',
      { cause: clickhouse })
    assert.ok(isUnreachable(wrapped))
  })

  it('should count a Kafka broker that answers it is not ready yet as unreachable', () => {
    for (const id of ['BROKER_NOT_AVAILABLE', 'COORDINATOR_LOAD_IN_PROGRESS']) {
      const notReady = new MultipleErrors('metadata failed 1 times.', [new ProtocolError(id)])
      assert.ok(isUnreachable(notReady), id)
    }
    assert.equal(isUnreachable(new ProtocolError('TOPIC_AUTHORIZATION_FAILED')), false)
    assert.equal(isUnreachable(new AuthenticationError('SASL authentication failed.')), false)
  })

  it('should not count a server that answered and refused as unreachable', () => {
    const login = new Error('Code: 516. DB::Exception: vitals: Authentication failed')
    assert.equal(isUnreachable(login), false)
    const certificate = Object.assign(new Error('unable to verify the first certificate'),
      { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' })
    assert.equal(isUnreachable(new Error('Connection failed.', { cause: certificate })), false)
    assert.equal(isUnreachable(new UserError(ErrorCodes.CONFIG, 'invalid setting clickhouse.caFile')), false)
  })
})

describe('whileUnreachable', () => {
  const options = { server: 'a test server', log, describe: String }

  it('should try again while the server is unreachable, and return once it answers', async () => {
    const { clickhouse } = await refusedErrors()
    let tries = 0
    const answer = await whileUnreachable(async () => {
      tries++
      if (tries < 3) throw clickhouse
      return 'answered'
    }, { ...options, waitMs: 10_000 })
    assert.equal(answer, 'answered')
    assert.equal(tries, 3)
  })

  it('should throw the last error once the wait is over', async () => {
    const { kafka } = await refusedErrors()
    let tries = 0
    const started = Date.now()
    await assert.rejects(whileUnreachable(async () => { tries++; throw kafka }, { ...options, waitMs: 1500 }),
      (error) => error === kafka)
    assert.ok(tries >= 2, `${tries} tries`)
    assert.ok(Date.now() - started >= 1400, 'it should have waited about as long as it was told')
  })

  it('should throw any other error at once', async () => {
    let tries = 0
    const refused = new Error('Code: 516. DB::Exception: Authentication failed')
    await assert.rejects(whileUnreachable(async () => { tries++; throw refused }, { ...options, waitMs: 10_000 }),
      (error) => error === refused)
    assert.equal(tries, 1)
  })

  it('should stop waiting when its signal aborts', async () => {
    const { clickhouse } = await refusedErrors()
    const controller = new AbortController()
    setTimeout(() => { controller.abort() }, 300)
    const started = Date.now()
    await assert.rejects(whileUnreachable(async () => { throw clickhouse },
      { ...options, waitMs: 60_000, signal: controller.signal }), (error) => error === clickhouse)
    assert.ok(Date.now() - started < 5000, 'the abort should end the wait')
  })
})
