import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { Store } from '../../src/store/client.ts'
import { bindLiterals, identifier, quote } from '../../src/store/sql.ts'
import { testStack } from '../helpers/stack.ts'

/** Strings that break naive escaping, each with what it tries. */
const nasty: Array<[string, string]> = [
  ['quote and comment', "' OR 1=1 --"],
  ['escaped quote', "\\'"],
  ['statement break', "'); DROP TABLE t; --"],
  ['trailing backslash', 'C:\\temp\\'],
  ['backslash escapes as text', '\\n \\t \\x41 \\0 \\\\'],
  ['newlines and tabs', 'line 1\nline 2\r\n\tindented'],
  ['NUL inside', 'before\u0000after'],
  ['every control byte', Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join('') +
    '\u007f'],
  ['unicode', 'Grüße, 東京, Ελλάδα, 😀, \u200b, \u2028'],
  ['backquote and braces', '`x` {v:String} $1 ?'],
  ['empty', '']
]

describe('bindLiterals', () => {
  it('quotes and backslashes should be escaped with a backslash', () => {
    assert.equal(bindLiterals('SELECT {v:String}', { v: "it's" }), "SELECT 'it\\'s'")
    assert.equal(bindLiterals('SELECT {v:String}', { v: 'a\\b' }), "SELECT 'a\\\\b'")
    assert.equal(bindLiterals('SELECT {v:String}', { v: "\\'" }), "SELECT '\\\\\\''")
  })

  it('control characters should become \\x escapes, leaving no raw control byte', () => {
    assert.equal(quote('a\nb\u0000c\td'), "'a\\x0ab\\x00c\\x09d'")
    for (const [what, value] of nasty) {
      const literal = quote(value)
      assert.doesNotMatch(literal, /[\u0000-\u001f]/, what)
    }
  })

  it('every quote in a bound string should be escaped, so the literal ends only at its end', () => {
    for (const [what, value] of nasty) {
      const literal = bindLiterals('{v:String}', { v: value })
      // Walk the literal as ClickHouse does: a backslash escapes the next character.
      let end = -1
      for (let i = 1; i < literal.length; i++) {
        if (literal[i] === '\\') i++
        else if (literal[i] === "'") { end = i; break }
      }
      assert.equal(end, literal.length - 1, `${what}: ${literal}`)
    }
  })

  it('numbers should bind as plain numbers', () => {
    assert.equal(bindLiterals('{a:UInt32} {b:Int64} {c:Float64}', { a: 42, b: -7, c: 2.5 }),
      '42 -7 2.5')
    assert.equal(bindLiterals('{a:UInt32}', { a: '3600' }), '3600')
  })

  it('a non-number should be refused for UInt32', () => {
    for (const value of ['abc', '12abc', '1; DROP TABLE t', '', ' ', Number.NaN, Infinity, 1.5]) {
      assert.throws(() => bindLiterals('SELECT {n:UInt32}', { n: value }), /integer/,
        `${JSON.stringify(value)} should be refused`)
    }
  })

  it('a negative number should be refused for an unsigned type', () => {
    assert.throws(() => bindLiterals('SELECT now() - {within:UInt32}', { within: -3600 }))
  })

  it('a UInt64 given as a decimal string should bind exactly', () => {
    const big = '18446744073709551615'
    assert.equal(bindLiterals('{id:UInt64}', { id: big }), big)
    assert.equal(bindLiterals('{id:UInt64}', { id: '9007199254740993' }), '9007199254740993')
  })

  it('a missing parameter should be refused, naming it', () => {
    assert.throws(() => bindLiterals('SELECT {host:String}, {within:UInt32}', { host: 'a' }),
      /within/)
  })

  it('an unsupported type should be refused rather than bound as text', () => {
    assert.throws(() => bindLiterals('SELECT {v:Decimal(10, 2)}', { v: 1.5 }), /unsupported/)
  })

  it('arrays should bind element by element, each escaped for its type', () => {
    assert.equal(bindLiterals('{ids:Array(UInt32)}', { ids: [1, 2, 3] }), '[1, 2, 3]')
    assert.equal(bindLiterals('{ids:Array(UInt32)}', { ids: [] }), '[]')
    assert.equal(bindLiterals('{names:Array(String)}', { names: ["a'b", 'c\\'] }),
      "['a\\'b', 'c\\\\']")
    assert.throws(() => bindLiterals('{ids:Array(UInt32)}', { ids: [1, 'x'] }), /integer/)
    assert.throws(() => bindLiterals('{ids:Array(UInt32)}', { ids: 1 }), /array/)
    assert.throws(() => bindLiterals('{id:UInt32}', { id: [1] }), /array/)
  })

  it('a value that looks like a placeholder should not be bound again', () => {
    assert.equal(bindLiterals('SELECT {a:String}, {b:String}', { a: '{b:String}', b: 'x' }),
      "SELECT '{b:String}', 'x'")
  })
})

describe('identifier', () => {
  it('a plain name should be quoted with backquotes', () => {
    assert.equal(identifier('vitals'), '`vitals`')
    assert.equal(identifier('vitals_test_1a2b'), '`vitals_test_1a2b`')
  })

  it('anything that is not a plain name should be refused', () => {
    for (const name of ['vitals; DROP TABLE x', 'vitals`.`x', 'a b', 'db.table', '1st', '',
      "x'", 'name\u0000', 'tëst', 'a-b']) {
      assert.throws(() => identifier(name), /not a valid identifier/, JSON.stringify(name))
    }
  })
})

describe('bound values on the real ClickHouse 18.16', { timeout: 120_000 }, () => {
  let store: Store

  before(async () => {
    const { clickhouse } = await testStack()
    store = await Store.connect({
      url: clickhouse.url,
      user: clickhouse.user,
      password: clickhouse.password,
      database: 'default',
      requestTimeoutMs: 10_000
    })
  })

  after(async () => {
    await store?.close()
  })

  it('the server should return every nasty string exactly as it was bound', async () => {
    for (const [what, value] of nasty) {
      const rows = await store.query<{ v: string }>('SELECT {v:String} AS v', { v: value })
      assert.deepEqual(rows, [{ v: value }], what)
    }
  })

  it('a string bound next to other parameters should not change them', async () => {
    const rows = await store.query<{ a: string, n: number, b: string }>(
      'SELECT {a:String} AS a, {n:UInt32} AS n, {b:String} AS b',
      { a: "'); SELECT 1 --", n: 7, b: '\\' })
    assert.deepEqual(rows, [{ a: "'); SELECT 1 --", n: 7, b: '\\' }])
  })

  it('an array of nasty strings should come back intact', async () => {
    const values = nasty.map(([, value]) => value)
    const rows = await store.query<{ v: string[] }>('SELECT {v:Array(String)} AS v', { v: values })
    assert.deepEqual(rows, [{ v: values }])
  })

  it('a readonly query should be refused a DROP by the server', async () => {
    await assert.rejects(
      store.query('DROP TABLE IF EXISTS default.nothing', {}, { readonly: true }),
      /readonly/i)
  })

  it('a readonly query should be refused a CREATE, leaving no table behind', async () => {
    const table = `vitals_readonly_probe_${randomBytes(4).toString('hex')}`
    await assert.rejects(
      store.query(`CREATE TABLE default.${table} (a UInt8) ENGINE = Memory`, {}, { readonly: true }),
      /readonly/i)
    const rows = await store.query<{ n: string }>(
      'SELECT count() AS n FROM system.tables WHERE database = {db:String} AND name = {t:String}',
      { db: 'default', t: table })
    assert.equal(Number(rows[0].n), 0)
  })
})
