import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { after, before, describe, it } from 'node:test'
import { createFleet } from '../../src/agent/simulate.ts'
import { defaultSettings } from '../../src/config/index.ts'
import { encodeEvent } from '../../src/event/index.ts'
import { ConfigError, ErrorCodes } from '../../src/errors.ts'
import { emptyRows, RowBuilder } from '../../src/ingest/rows.ts'
import { componentLogger } from '../../src/log.ts'
import { ensureCertificates } from '../../src/stack/certs.ts'
import { clickhouseAnswers, clickhouseLayout } from '../../src/stack/clickhouse.ts'
import {
  startServer, startStack, stopServer, stopStack, type StackState
} from '../../src/stack/index.ts'
import { stateFile } from '../../src/stack/state.ts'
import { migrate, Store, type StoreConfig } from '../../src/store/index.ts'
import { runVitals, type Run } from '../helpers/cli.ts'
import { freePorts } from '../helpers/ports.ts'

const log = componentLogger('test')
const secret = (label: string): string => `${label}-${randomBytes(12).toString('hex')}`

/** Every error of a chain: causes and the members of aggregate errors. */
function chain (error: unknown): Array<Error & { code?: string }> {
  if (!(error instanceof Error)) return []
  const nested = (error as { errors?: unknown[] }).errors ?? []
  return [error, ...chain(error.cause), ...nested.flatMap(chain)]
}

async function refusal (config: StoreConfig): Promise<unknown> {
  return await Store.connect(config).then(async (store) => {
    await store.close()
    assert.fail('the connection should have been refused')
  }, (error: unknown) => error)
}

describe('ClickHouse over HTTPS', { timeout: 300_000 }, () => {
  let home: string
  let state: StackState
  let plain: Store
  const databases: string[] = []

  /** The stack's HTTPS URL and CA, as the vitals user, with a database of the test's own. */
  const secureConfig = (overrides: Partial<StoreConfig> = {}): StoreConfig => {
    assert.ok(state.clickhouseSecure !== undefined)
    const database = `vitals_tls_${randomBytes(4).toString('hex')}`
    databases.push(database)
    return {
      ...defaultSettings().clickhouse,
      ...state.clickhouse,
      url: state.clickhouseSecure.url,
      caFile: state.clickhouseSecure.caFile,
      database,
      ...overrides
    }
  }

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'vitals-clickhouse-tls-'))
    const [kafka, kafkaController, clickhouseHttp, clickhouseTcp, clickhouseHttps] =
      await freePorts(5)
    const result = await startStack({
      home,
      ports: { kafka, kafkaController, clickhouseHttp, clickhouseTcp, clickhouseHttps },
      security: { clickhouseTls: true },
      readyTimeoutMs: 90_000
    })
    state = result.state
    plain = await Store.connect({ ...defaultSettings().clickhouse, ...state.clickhouse })
  })

  after(async () => {
    for (const database of databases) {
      await plain?.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => {})
    }
    await plain?.close()
    if (home === undefined) return
    await stopStack(home, { timeoutMs: 30_000 }).catch(() => {})
    await rm(home, { recursive: true, force: true })
  })

  it('the state should name the HTTPS URL and the stack CA, and keep plain HTTP', async () => {
    assert.deepEqual(state.clickhouseSecure, {
      url: `https://127.0.0.1:${state.ports.clickhouseHttps}`,
      caFile: join(home, 'kafka', 'security', 'tls', 'ca.pem')
    })
    assert.equal(state.kafkaSecure, undefined, 'no Kafka listener was asked for')
    assert.equal((await stat(stateFile(home))).mode & 0o777, 0o600)
    assert.equal(await clickhouseAnswers(state.clickhouse), true, 'plain HTTP should stay')

    const config = await readFile(clickhouseLayout(home).configFile, 'utf8')
    assert.match(config, new RegExp(`<https_port>${state.ports.clickhouseHttps}</https_port>`))
    assert.doesNotMatch(config, new RegExp(state.clickhouse.password))
  })

  it('Store.connect with the CA should answer, migrate and insert over HTTPS', async () => {
    const store = await Store.connect(secureConfig())
    try {
      const [row] = await store.query<{ version: string }>('SELECT version() AS version')
      assert.match(row.version, /^18\.16\./)

      assert.ok((await migrate(store, log)).length > 0, 'every migration should apply')
      const rows = emptyRows()
      const builder = new RowBuilder(store.features)
      const events = createFleet(3, { seed: 5, intervalMs: 10_000 })
        .map((host) => host.sample(Date.now() - 60_000))
      events.forEach((event, offset) => builder.addEvent(rows, {
        topic: 'vitals-tls', partition: 0, offset: BigInt(offset), timestamp: event.time,
        key: Buffer.from(event.host.id), value: encodeEvent(event)
      }, event))
      await store.insert('events', rows.events)
      await store.insert('host_samples', rows.host_samples)

      const [count] = await plain.query<{ n: string }>(
        `SELECT count() AS n FROM ${store.table('host_samples')}`)
      assert.equal(Number(count.n), 3, 'the rows should be stored')
    } finally {
      await store.close()
    }
  })

  it('without the stack CA, or with another CA, it should fail certificate verification',
    async () => {
      const other = await mkdtemp(join(tmpdir(), 'vitals-other-ca-'))
      try {
        const { caFile } = await ensureCertificates(join(other, 'tls'))
        for (const config of [secureConfig({ caFile: undefined }), secureConfig({ caFile })]) {
          const codes = chain(await refusal(config)).map((cause) => cause.code ?? '')
          assert.ok(codes.some((code) => /CERT|SIGNATURE|ISSUER/.test(code)),
            `a verification error expected, got ${codes.join(', ')}`)
        }
      } finally {
        await rm(other, { recursive: true, force: true })
      }
    })

  it('a wrong password over HTTPS should be refused without repeating it', async () => {
    const wrong = secret('wrong-password')
    const error = await refusal(secureConfig({ password: wrong }))
    assert.match((error as Error).message, /password/i)
    assert.doesNotMatch(inspect(error, { depth: 10 }), new RegExp(wrong))
  })

  it('a missing or unreadable CA file should be one line naming clickhouse.caFile',
    async () => {
      const notPem = join(home, 'not-a-certificate.pem')
      await writeFile(notPem, 'hello\n')
      for (const caFile of [join(home, 'missing.pem'), notPem]) {
        const error = await refusal(secureConfig({ caFile }))
        assert.ok(error instanceof ConfigError && error.key === 'clickhouse.caFile' &&
          error.code === ErrorCodes.CONFIG && !error.message.includes('\n'), inspect(error))
      }
    })

  describe('vitals sql as a process', () => {
    /** What an operator would set; VITALS_HOME keeps the CLI away from the real stack. */
    const envOf = (config: StoreConfig): NodeJS.ProcessEnv => ({
      VITALS_HOME: join(home, 'cli-home'),
      VITALS_CONFIG: '',
      VITALS_CLICKHOUSE_URL: config.url,
      VITALS_CLICKHOUSE_CA_FILE: config.caFile ?? '',
      VITALS_CLICKHOUSE_USER: config.user,
      VITALS_CLICKHOUSE_PASSWORD: config.password
    })
    const sql = async (config: StoreConfig): Promise<Run> =>
      await runVitals(['sql', 'SELECT 1', '--log-level', 'debug'], envOf(config))
    const assertNoSecret = (run: Run, extra: string[] = []): void => {
      const output = `${run.stdout}\n${run.stderr}`
      for (const value of [state.clickhouse.password, ...extra]) {
        assert.ok(!output.includes(value), `a password appeared in the output:\n${output}`)
      }
    }

    it('with the CA file it should print the row', async () => {
      const run = await sql(secureConfig())
      assert.equal(run.code, 0, run.stderr)
      assert.equal(run.stdout, '1\n1\n')
      assertNoSecret(run)
    })

    it('with a wrong password it should fail in one line and print no password', async () => {
      const wrong = secret('wrong-clickhouse')
      const run = await sql(secureConfig({ password: wrong }))
      assert.equal(run.code, 2, run.stderr)
      assert.match(run.stderr, /cannot reach ClickHouse at https:.*password/i)
      assertNoSecret(run, [wrong])
    })

    it('without the CA or with a missing CA file it should say why and print no password',
      async () => {
        const untrusted = await sql(secureConfig({ caFile: undefined }))
        assert.equal(untrusted.code, 2, untrusted.stderr)
        assert.match(untrusted.stderr, /certificate/)
        assertNoSecret(untrusted)

        const missing = await sql(secureConfig({ caFile: join(home, 'missing-ca.pem') }))
        assert.equal(missing.code, 2, missing.stderr)
        assert.match(missing.stderr, /invalid setting clickhouse\.caFile: cannot read/)
        assertNoSecret(missing)
      })
  })

  it('a restart of ClickHouse alone, or of the stack, should keep the HTTPS URL and CA',
    async () => {
      const recorded = state.clickhouseSecure
      assert.equal(await stopServer(home, 'clickhouse', { timeoutMs: 30_000 }), true)
      const restarted = await startServer(home, 'clickhouse', { readyTimeoutMs: 90_000 })
      assert.deepEqual(restarted.clickhouseSecure, recorded)
      const store = await Store.connect(secureConfig())
      await store.close()

      assert.equal((await startStack({ home, security: { clickhouseTls: true } })).reused, true,
        'a running stack with HTTPS should be reused')
      assert.equal((await startStack({ home })).reused, true,
        'a start without security should reuse it too')
    })
})
