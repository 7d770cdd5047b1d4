import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { ClickHouseError, parseError } from '@clickhouse/client'
import { classifyStoreError } from '../../src/ingest/classify.ts'
import { Store } from '../../src/store/client.ts'
import { freePort } from '../helpers/ports.ts'
import { testStack } from '../helpers/stack.ts'

/** An error as the client builds it from a current server's answer. */
const serverError = (code: number, type: string, message: string) =>
  new ClickHouseError({ code: String(code), type, message })

describe('classifyStoreError', () => {
  it('an error that blames the data should be "reject"', () => {
    const cases: Array<[number, string]> = [
      [6, 'CANNOT_PARSE_TEXT'],
      [26, 'CANNOT_PARSE_QUOTED_STRING'],
      [27, 'CANNOT_PARSE_INPUT_ASSERTION_FAILED'],
      [38, 'CANNOT_PARSE_DATE'],
      [41, 'CANNOT_PARSE_DATETIME'],
      [53, 'TYPE_MISMATCH'],
      [69, 'ARGUMENT_OUT_OF_BOUND'],
      [70, 'CANNOT_CONVERT_TYPE'],
      [72, 'CANNOT_PARSE_NUMBER'],
      [117, 'INCORRECT_DATA'],
      [131, 'TOO_LARGE_STRING_SIZE'],
      [321, 'VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE']
    ]
    for (const [code, type] of cases) {
      assert.equal(classifyStoreError(serverError(code, type, 'Cannot parse input')), 'reject', type)
    }
  })

  it('a parse error as a current server words it should be "reject"', () => {
    const error = parseError('Code: 27. DB::Exception: Cannot parse input: expected \'"\' before: ' +
      '\'x}\': (while reading the value of key cpu_cores): (at row 1)\n: While executing ' +
      'ParallelParsingBlockInputFormat. (CANNOT_PARSE_INPUT_ASSERTION_FAILED) (version 24.8.4.13)')
    assert.ok(error instanceof ClickHouseError)
    assert.equal(classifyStoreError(error), 'reject')
  })

  it('a parse error as the 18.16 server words it should be "reject"', () => {
    // The text the 18.16 server of the test stack answers to a row it cannot parse. It has no
    // "(TYPE)" suffix, so the client cannot make a ClickHouseError of it.
    const error = parseError('Code: 27, e.displayText() = DB::Exception: Cannot parse input: ' +
      'expected " before: x","t":1}\\n: (while read the value of key a): (at row 1)\n, ' +
      'e.what() = DB::Exception\n')
    assert.equal(classifyStoreError(error), 'reject')
  })

  it('authentication failures should be "retry"', () => {
    assert.equal(classifyStoreError(serverError(516, 'AUTHENTICATION_FAILED',
      'vitals: Authentication failed: password is incorrect')), 'retry')
    assert.equal(classifyStoreError(serverError(192, 'UNKNOWN_USER', 'Unknown user vitals')),
      'retry')
    assert.equal(classifyStoreError(serverError(193, 'WRONG_PASSWORD', 'Wrong password')), 'retry')
  })

  it('a missing table or database should be "retry"', () => {
    assert.equal(classifyStoreError(serverError(60, 'UNKNOWN_TABLE',
      'Table vitals.host_samples does not exist')), 'retry')
    assert.equal(classifyStoreError(serverError(81, 'UNKNOWN_DATABASE',
      'Database vitals does not exist')), 'retry')
  })

  it('an unwell server should be "retry"', () => {
    assert.equal(classifyStoreError(serverError(241, 'MEMORY_LIMIT_EXCEEDED',
      'Memory limit (total) exceeded')), 'retry')
    assert.equal(classifyStoreError(serverError(252, 'TOO_MANY_PARTS', 'Too many parts')), 'retry')
    assert.equal(classifyStoreError(serverError(159, 'TIMEOUT_EXCEEDED', 'Timeout exceeded')),
      'retry')
  })

  it('network errors should be "retry"', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND']) {
      const error = Object.assign(new Error(`connect ${code} 127.0.0.1:8123`), { code })
      assert.equal(classifyStoreError(error), 'retry', code)
    }
    assert.equal(classifyStoreError(new Error('Timeout error.')), 'retry')
  })

  it('something that is not an error at all should be "retry", never dropped', () => {
    for (const value of [undefined, null, 'Code: 27', { code: 27 }]) {
      assert.equal(classifyStoreError(value), 'retry', JSON.stringify(value))
    }
  })
})

describe('classifyStoreError on what the real servers answer', { timeout: 120_000 }, () => {
  let store: Store
  const table = `default.vitals_classify_${randomBytes(4).toString('hex')}`

  before(async () => {
    const { clickhouse } = await testStack()
    store = await Store.connect({
      url: clickhouse.url,
      user: clickhouse.user,
      password: clickhouse.password,
      database: 'default',
      requestTimeoutMs: 10_000
    })
    await store.command(`CREATE TABLE ${table} (n UInt32, t DateTime) ENGINE = Memory`)
  })

  after(async () => {
    if (store === undefined) return
    await store.command(`DROP TABLE IF EXISTS ${table}`)
    await store.close()
  })

  const failure = async (operation: () => Promise<unknown>): Promise<unknown> => {
    try {
      await operation()
    } catch (error) {
      return error
    }
    assert.fail('the server should have refused')
  }

  it('a refused connection should be "retry"', async () => {
    const port = await freePort()
    const error = await failure(() => Store.connect({
      url: `http://127.0.0.1:${port}`, user: 'default', password: '', database: 'default',
      requestTimeoutMs: 5000
    }))
    assert.equal((error as { code?: string }).code, 'ECONNREFUSED')
    assert.equal(classifyStoreError(error), 'retry')
  })

  it('an insert into a missing table should be "retry"', async () => {
    const error = await failure(() => store.client.insert({
      table: `${table}_missing`, values: [{ n: 1, t: 0 }], format: 'JSONEachRow'
    }))
    assert.equal(classifyStoreError(error), 'retry')
  })

  it('a row the 18.16 server cannot parse should be "reject"', async () => {
    const error = await failure(() => store.client.insert({
      table, values: [{ n: 'not a number', t: 0 }], format: 'JSONEachRow'
    }))
    assert.match((error as Error).message, /Cannot parse/)
    assert.equal(classifyStoreError(error), 'reject', (error as Error).message)
  })
})
