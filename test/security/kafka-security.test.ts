import { createServer } from 'node:net'
import assert from 'node:assert/strict'
import { randomBytes, X509Certificate } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { inspect } from 'node:util'
import { after, before, describe, it } from 'node:test'
import { Admin, Producer } from '@platformatic/kafka'
import { Publisher } from '../../src/agent/publisher.ts'
import { createFleet } from '../../src/agent/simulate.ts'
import { startIngest } from '../../src/cli/commands/ingest.ts'
import { defaultSettings, type Settings } from '../../src/config/index.ts'
import { ConfigError, ErrorCodes } from '../../src/errors.ts'
import { kafkaConnection } from '../../src/kafka/options.ts'
import { componentLogger } from '../../src/log.ts'
import { ensureCertificates } from '../../src/stack/certs.ts'
import { stackStatus, startServer, startStack, stopServer, stopStack, type StackState } from '../../src/stack/index.ts'
import { kafkaAnswers } from '../../src/stack/kafka.ts'
import { stateFile } from '../../src/stack/state.ts'
import { Store } from '../../src/store/index.ts'
import { envFor, startVitals, type Run } from '../helpers/cli.ts'
import { isolatedSettingsFor } from '../helpers/isolated.ts'
import { freePorts } from '../helpers/ports.ts'
import { eventually } from '../helpers/stack.ts'

const log = componentLogger('test')
const secret = (label: string): string => `${label}-${randomBytes(12).toString('hex')}`

/** Every error of a chain: causes and the members of aggregate errors. */
function chain (error: unknown): Array<Error & { code?: string }> {
  if (!(error instanceof Error)) return []
  const nested = (error as { errors?: unknown[] }).errors ?? []
  return [error, ...chain(error.cause), ...nested.flatMap(chain)]
}

async function filesUnder (dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true })
  return entries.filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name))
}

function adminFor (kafka: Settings['kafka']): Admin {
  return new Admin({ ...kafkaConnection(kafka, 'test'), retries: 0, timeout: 10_000 })
}

/** The offset after the last message of partition 0. */
async function endOffset (kafka: Settings['kafka'], topic: string): Promise<bigint> {
  const admin = adminFor(kafka)
  try {
    const [listed] = await admin.listOffsets({
      topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: -1n }] }]
    })
    return listed.partitions[0].offset
  } finally {
    await admin.close()
  }
}

describe('Kafka over SASL_SSL (SCRAM-SHA-512 and TLS)', { timeout: 300_000 }, () => {
  const kafkaPassword = secret('kafka-secret')
  let home: string
  let state: StackState
  let startMs: number
  let store: Store
  const databases: string[] = []

  /** Isolated settings whose Kafka is the secure listener, logged in as the stack's user. */
  const secureSettings = (prefix: string): Settings => {
    const settings = isolatedSettingsFor(state, prefix)
    const listener = state.kafkaSecure
    assert.ok(listener?.sasl !== undefined && listener.caFile !== undefined)
    settings.kafka.brokers = [listener.bootstrap]
    settings.kafka.sasl = { ...listener.sasl }
    settings.kafka.tls = { enabled: true, caFile: listener.caFile }
    settings.ingest.maxBatchMs = 200
    databases.push(settings.clickhouse.database)
    return settings
  }

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'vitals-security-'))
    const [kafka, kafkaController, clickhouseHttp, clickhouseTcp, kafkaSecure] = await freePorts(5)
    const started = Date.now()
    const result = await startStack({
      home,
      ports: { kafka, kafkaController, clickhouseHttp, clickhouseTcp, kafkaSecure },
      security: { sasl: { username: 'vitals-test', password: kafkaPassword }, tls: true },
      readyTimeoutMs: 90_000
    })
    startMs = Date.now() - started
    state = result.state
    store = await Store.connect({ ...defaultSettings().clickhouse, ...state.clickhouse })
  })

  after(async () => {
    for (const database of databases) {
      await store?.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => {})
    }
    await store?.close()
    if (home === undefined) return
    await stopStack(home, { timeoutMs: 30_000 }).catch(() => {})
    await rm(home, { recursive: true, force: true })
  })

  it('the state should name the secure listener and the CA file, and stay private', async (t) => {
    t.diagnostic(`secure stack started in ${(startMs / 1000).toFixed(1)} s`)
    assert.deepEqual(state.kafkaSecure, {
      bootstrap: `127.0.0.1:${state.ports.kafkaSecure}`,
      protocol: 'SASL_SSL',
      caFile: join(home, 'kafka', 'security', 'tls', 'ca.pem'),
      sasl: { mechanism: 'SCRAM-SHA-512', username: 'vitals-test', password: kafkaPassword }
    })
    assert.equal((await stat(stateFile(home))).mode & 0o777, 0o600)
    assert.equal(await kafkaAnswers(state.ports.kafka), true, 'plaintext should stay for local use')

    const certificate = new X509Certificate(
      await readFile(join(home, 'kafka', 'security', 'tls', 'broker.pem')))
    assert.match(certificate.subjectAltName ?? '', /IP Address:127\.0\.0\.1/)
    assert.ok(certificate.verify(new X509Certificate(await readFile(state.kafkaSecure.caFile ?? ''))
      .publicKey), 'the broker certificate should be signed by the CA clients get')
  })

  it('the agent publisher, ingest and its dead-letter producer should work over SASL_SSL',
    async () => {
      const settings = secureSettings('vitals-sasl')
      const { ingest, store: ingestStore } = await startIngest(settings, log)
      const publisher = new Publisher({
        connection: kafkaConnection(settings.kafka, 'agent'), topic: settings.kafka.topic,
        partition: -1, compression: 'gzip', bufferMaxSamples: 1000, log
      })
      try {
        publisher.start()
        const fleet = createFleet(5, { seed: 11, intervalMs: 10_000 })
        const first = Date.now() - 60_000
        for (let round = 0; round < 4; round++) {
          for (const host of fleet) publisher.publish(host.sample(first + round * 10_000))
        }
        assert.equal(await publisher.stop(30_000), 0, 'every event should be delivered')
        assert.equal(publisher.telemetry.get('kafka_unreachable'), 0)

        const bad = new Producer({ ...kafkaConnection(settings.kafka, 'test-bad') })
        await bad.send({ messages: [{ topic: settings.kafka.topic, value: Buffer.from('{"v') }] })
        await bad.close()

        const db = settings.clickhouse.database
        const rows = async (table: string): Promise<number> => Number((await store.query<{
          n: string }>(`SELECT count() AS n FROM ${db}.${table} FINAL`))[0].n)
        assert.ok(await eventually(async () => await rows('host_samples') === 20, 30_000),
          `20 rows expected, found ${await rows('host_samples')}`)
        assert.ok(await eventually(async () => await rows('dead_letters') === 1, 30_000))
        // Ingest publishes a dead letter to its topic after storing it in the table.
        const dlqEnd = async () => await endOffset(settings.kafka, settings.kafka.deadLetterTopic)
        assert.ok(await eventually(async () => await dlqEnd() === 1n, 30_000),
          `the dead letter should have been published to its topic (end offset ${await dlqEnd()})`)
      } finally {
        await publisher.stop(0)
        await ingest.stop()
        await ingestStore.close()
      }
    })

  it('a wrong password should be refused and nothing should reach the topic', async () => {
    const settings = secureSettings('vitals-sasl-wrong')
    const wrongPassword = secret('wrong-password')
    const wrong: Settings['kafka'] = {
      ...settings.kafka,
      sasl: { mechanism: 'SCRAM-SHA-512', username: 'vitals-test', password: wrongPassword }
    }

    const admin = adminFor(wrong)
    const error = await admin.metadata({ topics: [] }).then(
      () => assert.fail('the broker should refuse the login'), (error: unknown) => error)
    await admin.close()
    assert.ok(chain(error).some((cause) => cause.code === 'PLT_KFK_AUTHENTICATION'),
      `an authentication error expected, got ${inspect(error, { depth: 5 })}`)
    assert.doesNotMatch(inspect(error, { depth: 10 }), new RegExp(wrongPassword))

    const good = adminFor(settings.kafka)
    const publisher = new Publisher({
      connection: kafkaConnection(wrong, 'agent'), topic: settings.kafka.topic,
      partition: -1, compression: 'none', bufferMaxSamples: 100, log
    })
    try {
      await good.createTopics({ topics: [settings.kafka.topic], partitions: 1, replicas: 1 })
      publisher.start()
      publisher.publish(createFleet(1, { seed: 3, intervalMs: 10_000 })[0].sample(Date.now()))
      assert.ok(await eventually(async () => publisher.telemetry.get('kafka_unreachable') === 1,
        20_000), 'the publisher should report Kafka as unreachable')
      assert.equal(await publisher.stop(1000), 1, 'the event should not have been delivered')

      assert.equal(await endOffset(settings.kafka, settings.kafka.topic), 0n,
        'the topic should be empty')
    } finally {
      await publisher.stop(0)
      await good.close()
    }
  })

  it('TLS without the stack CA, or with another CA, should fail certificate verification',
    async () => {
      const settings = secureSettings('vitals-tls')
      const otherCa = await mkdtemp(join(tmpdir(), 'vitals-other-ca-'))
      try {
        const { caFile } = await ensureCertificates(join(otherCa, 'tls'))
        for (const tls of [{ enabled: true }, { enabled: true, caFile }]) {
          const admin = adminFor({ ...settings.kafka, tls })
          const error = await admin.metadata({ topics: [] }).then(
            () => assert.fail('the broker certificate should not be trusted'),
            (error: unknown) => error)
          await admin.close()
          const codes = chain(error).map((cause) => cause.code ?? '')
          assert.ok(codes.some((code) => /CERT|SIGNATURE|ISSUER/.test(code)),
            `a verification error expected, got ${codes.join(', ')}`)
        }
      } finally {
        await rm(otherCa, { recursive: true, force: true })
      }
    })

  it('a missing or unreadable CA file should stop with one line naming kafka.tls.caFile',
    async () => {
      const kafka = defaultSettings().kafka
      const notPem = join(home, 'not-a-certificate.pem')
      await writeFile(notPem, 'hello\n')
      for (const caFile of [join(home, 'missing.pem'), notPem]) {
        assert.throws(() => kafkaConnection({ ...kafka, tls: { enabled: true, caFile } }, 'test'),
          (error: unknown) => error instanceof ConfigError && error.key === 'kafka.tls.caFile' &&
            error.code === ErrorCodes.CONFIG && !error.message.includes('\n'))
      }
    })

  it('the SASL password should not show when the connection options are logged', () => {
    const connection = kafkaConnection(secureSettings('vitals-opts').kafka, 'test')
    assert.doesNotMatch(JSON.stringify(connection), new RegExp(kafkaPassword))
    assert.doesNotMatch(inspect(connection, { depth: 10 }), new RegExp(kafkaPassword))
    assert.equal(connection.sasl?.password(), kafkaPassword)
  })

  describe('vitals agent and ingest as processes', () => {
    const vitalsHome = (): string => join(home, 'cli-home')
    const secrets = (): string[] => [kafkaPassword, state.clickhouse.password]

    /** The environment an operator would set: every secret in a VITALS_ variable. */
    const envOf = (settings: Settings): NodeJS.ProcessEnv => ({
      ...envFor(settings),
      VITALS_HOME: vitalsHome(),
      VITALS_KAFKA_SASL_MECHANISM: settings.kafka.sasl?.mechanism,
      VITALS_KAFKA_SASL_USERNAME: settings.kafka.sasl?.username,
      VITALS_KAFKA_SASL_PASSWORD: settings.kafka.sasl?.password,
      VITALS_KAFKA_TLS: 'true',
      VITALS_KAFKA_TLS_CA_FILE: settings.kafka.tls?.caFile
    })

    interface Pair { agent: string, ingest: string, ingestExited: boolean }

    /**
     * Runs agent and ingest side by side until `settled` says they have shown what the test
     * is about (starting takes seconds on a busy machine), then stops both with SIGTERM.
     */
    const runBoth = async (settings: Settings, settled: (pair: Pair) => Promise<boolean>):
      Promise<Run[]> => {
      const env = envOf(settings)
      const common = ['--log-level', 'debug', '--set', `ingest.groupId=${settings.ingest.groupId}`]
      const ingest = startVitals(['ingest', ...common, '--set', 'ingest.maxBatchMs=300'], env)
      const agent = startVitals(['agent', ...common, '--interval', '1s',
        '--set', `agent.hostId=${settings.kafka.topic}`], env)
      let ingestExited = false
      void ingest.exited.then(() => { ingestExited = true })

      const done = await eventually(async () => await settled({
        agent: agent.output().stderr, ingest: ingest.output().stderr, ingestExited
      }), 90_000, 250)
      await sleep(1000) // a little longer, to give retries and debug lines a chance to print
      for (const child of [agent, ingest]) child.process.kill('SIGTERM')
      const runs = await Promise.all([agent.exited, ingest.exited])
      assert.ok(done, `agent:\n${runs[0].stderr}\ningest:\n${runs[1].stderr}`)
      return runs
    }

    const assertNoSecret = (runs: Run[], extra: string[] = []): void => {
      for (const run of runs) {
        const output = `${run.stdout}\n${run.stderr}`
        for (const value of [...secrets(), ...extra]) {
          assert.ok(!output.includes(value), `a secret appeared in the output:\n${output}`)
        }
      }
    }

    it('with the right credentials they should deliver and print no password', async () => {
      const settings = secureSettings('vitals-cli-ok')
      const stored = async (): Promise<number> => Number((await store.query<{ n: string }>(
        `SELECT count() AS n FROM ${settings.clickhouse.database}.host_samples`)
        .catch(() => [{ n: '0' }]))[0].n)
      const runs = await runBoth(settings, async () => await stored() >= 2)
      assertNoSecret(runs)
      assert.equal(runs[0].code, 0, runs[0].stderr)
      assert.equal(runs[1].code, 0, runs[1].stderr)
    })

    it('with a wrong Kafka password they should fail and print no password', async () => {
      const wrongKafka = secret('wrong-kafka')
      const settings = secureSettings('vitals-cli-kafka')
      settings.kafka.sasl = { ...settings.kafka.sasl!, password: wrongKafka }
      const runs = await runBoth(settings, async ({ agent, ingestExited }) =>
        /kafka unreachable/.test(agent) && ingestExited)
      assertNoSecret(runs, [wrongKafka])
      assert.match(runs[1].stderr, /SASL authentication failed/)
      assert.notEqual(runs[1].code, 0, 'ingest should fail')
      assert.doesNotMatch(runs[1].stderr, /waiting_for_server/, 'a refused login is not waited for')
    })

    it('with a wrong ClickHouse password ingest should fail and print no password', async () => {
      const wrongClickhouse = secret('wrong-clickhouse')
      const settings = secureSettings('vitals-cli-ch')
      settings.clickhouse.password = wrongClickhouse
      const runs = await runBoth(settings, async ({ agent, ingestExited }) =>
        /agent started/.test(agent) && ingestExited)
      assertNoSecret(runs, [wrongClickhouse])
      assert.match(runs[1].stderr, /cannot reach ClickHouse/)
      assert.equal(runs[1].code, 2, 'a refused login should be one line, not a crash')
      assert.doesNotMatch(runs[1].stderr, /waiting_for_server/, 'a refused login is not waited for')
    })

    it('a bad setting should name it without printing any password', async () => {
      const settings = secureSettings('vitals-cli-bad')
      const env = envOf(settings)
      const runs: Run[] = []
      for (const args of [
        ['--set', 'kafka.sasl.mechanism=nope'],
        ['--set', `kafka.tls.caFile=${join(home, 'missing-ca.pem')}`],
        ['--set', 'kafka.sasl.username=']
      ]) {
        const child = startVitals(['agent', '--log-level', 'debug', ...args], env)
        const run = await child.exited
        assert.equal(run.code, 2, run.stderr)
        assert.match(run.stderr, /invalid setting kafka\.(sasl|tls)\./)
        runs.push(run)
      }
      assertNoSecret(runs)
    })
  })

  it('a restart with security should keep the user, the port and the CA', async () => {
    const ca = await readFile(state.kafkaSecure?.caFile ?? '', 'utf8')
    assert.equal(await stopStack(home, { timeoutMs: 30_000 }), true)
    const again = await startStack({ home, security: { sasl: {}, tls: true },
      readyTimeoutMs: 90_000 })
    assert.equal(again.reused, false)
    assert.deepEqual(again.state.kafkaSecure, state.kafkaSecure)
    assert.equal(await readFile(again.state.kafkaSecure?.caFile ?? '', 'utf8'), ca)

    const settings = secureSettings('vitals-restart')
    const admin = adminFor(settings.kafka)
    try {
      assert.equal((await admin.metadata({ topics: [] })).brokers.size, 1)
    } finally {
      await admin.close()
    }
    assert.equal((await startStack({ home, security: { sasl: {}, tls: true } })).reused, true,
      'a running secure stack should be reused')
    assert.equal((await startStack({ home })).reused, true,
      'a start without security should reuse it too')
  })

  it('Kafka restarted on its own should bring its secure listener back, elsewhere if its port ' +
    'was taken, and record where', async () => {
    assert.equal(await stopServer(home, 'kafka', { timeoutMs: 30_000 }), true)
    const squatter = createServer()
    await new Promise<void>((resolve) => squatter.listen(state.ports.kafkaSecure, '127.0.0.1', resolve))
    let restarted: StackState
    try {
      restarted = await startServer(home, 'kafka', { readyTimeoutMs: 90_000 })
    } finally {
      squatter.close()
    }
    assert.notEqual(restarted.ports.kafkaSecure, state.ports.kafkaSecure)
    assert.equal(restarted.kafkaSecure?.bootstrap, `127.0.0.1:${restarted.ports.kafkaSecure}`)
    assert.deepEqual((await stackStatus(home)).state?.kafkaSecure, restarted.kafkaSecure,
      'the state file should name the new address')
    state = restarted
    const admin = adminFor(secureSettings('vitals-kafka-restart').kafka)
    try {
      assert.equal((await admin.metadata({ topics: [] })).brokers.size, 1)
    } finally {
      await admin.close()
    }
  })

  it('no server log, command line or config file of the stack should hold a password',
    async () => {
      const { state: current } = await startStack({ home })
      const files = [
        join(home, 'kafka', 'server.properties'),
        ...await filesUnder(join(home, 'kafka', 'logs')),
        ...await filesUnder(join(home, 'clickhouse', 'logs')),
        `/proc/${current.pids.kafka}/cmdline`,
        `/proc/${current.pids.clickhouse}/cmdline`
      ]
      for (const file of files) {
        const text = await readFile(file, 'utf8')
        for (const password of [kafkaPassword, current.clickhouse.password]) {
          assert.ok(!text.includes(password), `${file} holds a password`)
        }
      }
    })
})
