import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { defaultSettings, loadSettings, type LoadOptions } from '../../src/config/index.ts'
import { ConfigError, ErrorCodes } from '../../src/errors.ts'

let folder: string
let count = 0

before(async () => {
  folder = await mkdtemp(join(tmpdir(), 'vitals-config-'))
})

after(async () => {
  await rm(folder, { recursive: true, force: true })
})

async function yamlFile (text: string): Promise<string> {
  const file = join(folder, `settings-${count++}.yaml`)
  await writeFile(file, text)
  return file
}

/** The ConfigError `loadSettings` throws, after checking it is one line naming key and source. */
function refusal (options: LoadOptions, key: string, source: string): ConfigError {
  let caught: unknown
  try {
    loadSettings(options)
  } catch (error) {
    caught = error
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`)
  assert.equal(caught.code, ErrorCodes.CONFIG)
  assert.doesNotMatch(caught.message, /[\r\n]/, 'the message should be one line')
  assert.ok(caught.message.includes(key), `"${caught.message}" should name ${key}`)
  assert.ok(caught.message.includes(source), `"${caught.message}" should name ${source}`)
  return caught
}

describe('loadSettings', () => {
  it('an empty environment and no file should give the defaults', () => {
    assert.deepEqual(loadSettings({ env: {} }), defaultSettings())
  })

  it('values from a YAML file should replace the defaults they name and keep the others', async () => {
    const file = await yamlFile(`
kafka:
  brokers: [kafka-1:9092, "kafka-2:9093"]
  topic: metrics
agent:
  intervalMs: 5000
  tags:
    role: web
    rack: r12
log:
  level: debug
`)
    const settings = loadSettings({ file, env: {} })
    const expected = defaultSettings()
    expected.kafka.brokers = ['kafka-1:9092', 'kafka-2:9093']
    expected.kafka.topic = 'metrics'
    expected.agent.intervalMs = 5000
    expected.agent.tags = { role: 'web', rack: 'r12' }
    expected.log.level = 'debug'
    assert.deepEqual(settings, expected)
  })

  it('VITALS_CONFIG should name the file when no file is given', async () => {
    const file = await yamlFile('agent:\n  intervalMs: 4000\n')
    assert.equal(loadSettings({ env: { VITALS_CONFIG: file } }).agent.intervalMs, 4000)
  })

  it('an empty file should give the defaults', async () => {
    const file = await yamlFile('# nothing set here\n')
    assert.deepEqual(loadSettings({ file, env: {} }), defaultSettings())
  })

  it('the environment should beat the file', async () => {
    const file = await yamlFile(`
kafka:
  brokers: [file:9092]
agent:
  intervalMs: 5000
log:
  level: debug
`)
    const settings = loadSettings({
      file,
      env: { VITALS_INTERVAL_MS: '7000', VITALS_KAFKA_BROKERS: 'env-1:9092, env-2:9092' }
    })
    assert.equal(settings.agent.intervalMs, 7000)
    assert.deepEqual(settings.kafka.brokers, ['env-1:9092', 'env-2:9092'])
    assert.equal(settings.log.level, 'debug', 'what the environment leaves alone comes from the file')
  })

  it('a bad value in the file should not matter when the environment replaces it', async () => {
    const file = await yamlFile('agent:\n  intervalMs: 10\n')
    assert.equal(loadSettings({ file, env: { VITALS_INTERVAL_MS: '2000' } }).agent.intervalMs, 2000)
  })

  it('--set should beat the environment and the file', async () => {
    const file = await yamlFile('agent:\n  intervalMs: 5000\n')
    const settings = loadSettings({
      file,
      env: { VITALS_INTERVAL_MS: '7000', VITALS_LOG_LEVEL: 'warn' },
      overrides: ['agent.intervalMs=9000', 'agent.tags=role=db,note=a=b', 'kafka.partitions=6']
    })
    assert.equal(settings.agent.intervalMs, 9000)
    assert.deepEqual(settings.agent.tags, { role: 'db', note: 'a=b' })
    assert.equal(settings.kafka.partitions, 6)
    assert.equal(settings.log.level, 'warn')
  })

  it('the settings should be frozen all the way down', () => {
    const settings = loadSettings({ env: { VITALS_KAFKA_BROKERS: 'a:1' } })
    assert.ok(Object.isFrozen(settings))
    assert.ok(Object.isFrozen(settings.agent))
    assert.ok(Object.isFrozen(settings.agent.tags))
    assert.ok(Object.isFrozen(settings.kafka.brokers))
    assert.throws(() => { (settings.agent as { intervalMs: number }).intervalMs = 1 }, TypeError)
    assert.throws(() => { (settings.kafka.brokers as string[]).push('b:2') }, TypeError)
    assert.equal(settings.agent.intervalMs, defaultSettings().agent.intervalMs)
  })

  it('VITALS_KAFKA_TLS=true alone should enable TLS with the system CAs', () => {
    // src/kafka/options.ts reads an empty caFile as "the system CAs"; the environment has no
    // variable for rejectUnauthorized, so TLS from the environment must work without it.
    const settings = loadSettings({ env: { VITALS_KAFKA_TLS: 'true' } })
    assert.equal(settings.kafka.tls?.enabled, true)
  })
})

describe('loadSettings refusals', () => {
  it('an unknown key in the file should name the key and the file', async () => {
    const file = await yamlFile('agent:\n  intervalMS: 5000\n')
    refusal({ file, env: {} }, 'agent.intervalMS', file)
  })

  it('an unknown top-level section in the file should be refused', async () => {
    const file = await yamlFile('alerts:\n  email: ops@example.com\n')
    refusal({ file, env: {} }, 'alerts', file)
  })

  it('a value of the wrong type should name the key and where it came from', async () => {
    const file = await yamlFile('agent:\n  intervalMs: true\n')
    refusal({ file, env: {} }, 'agent.intervalMs', file)
    const text = await yamlFile('agent:\n  intervalMs: fast\n')
    refusal({ file: text, env: {} }, 'agent.intervalMs', text)
    refusal({ env: { VITALS_INTERVAL_MS: 'fast' } }, 'agent.intervalMs', 'VITALS_INTERVAL_MS')
    refusal({ env: { VITALS_KAFKA_TLS: 'maybe' } }, 'kafka.tls.enabled', 'VITALS_KAFKA_TLS')
    refusal({ env: {}, overrides: ['kafka.partitions=many'] }, 'kafka.partitions',
      '--set kafka.partitions')
  })

  it('an empty number from the environment should be refused, not read as 0', () => {
    refusal({ env: { VITALS_INTERVAL_MS: '' } }, 'agent.intervalMs', 'VITALS_INTERVAL_MS')
  })

  it('an interval out of range should name the key, the source and the bound', async () => {
    const low = refusal({ env: { VITALS_INTERVAL_MS: '10' } }, 'agent.intervalMs',
      'VITALS_INTERVAL_MS')
    assert.match(low.message, /1000/)
    const file = await yamlFile('agent:\n  intervalMs: 86400000\n')
    const high = refusal({ file, env: {} }, 'agent.intervalMs', file)
    assert.match(high.message, /3600000/)
    refusal({ env: {}, overrides: ['agent.intervalMs=1500.5'] }, 'agent.intervalMs',
      '--set agent.intervalMs')
  })

  it('more partitions than an event id can hold should be refused, naming the bound', () => {
    const topic = refusal({ env: {}, overrides: ['kafka.partitions=8193'] }, 'kafka.partitions',
      '--set kafka.partitions')
    assert.match(topic.message, /8192/)
    const agent = refusal({ env: {}, overrides: ['agent.partition=8192'] }, 'agent.partition',
      '--set agent.partition')
    assert.match(agent.message, /8191/)
    assert.equal(loadSettings({ env: {}, overrides: ['kafka.partitions=8192'] }).kafka.partitions, 8192)
  })

  it('a broker without a port should be refused as host:port', () => {
    const error = refusal({ env: { VITALS_KAFKA_BROKERS: 'kafka-1:9092,localhost' } },
      'kafka.brokers', 'VITALS_KAFKA_BROKERS')
    assert.match(error.message, /host:port/)
    assert.match(error.message, /localhost/)
  })

  it('a bad log level should list the choices', () => {
    const error = refusal({ env: { VITALS_LOG_LEVEL: 'loud' } }, 'log.level', 'VITALS_LOG_LEVEL')
    for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) {
      assert.ok(error.message.includes(level), `"${error.message}" should list ${level}`)
    }
  })

  it('an unreadable file should name the file', async () => {
    const missing = join(folder, 'missing.yaml')
    refusal({ file: missing, env: {} }, 'config file', missing)
    refusal({ file: folder, env: {} }, 'config file', folder)
  })

  it('invalid YAML should name the file in one line', async () => {
    const file = await yamlFile('kafka: [\n  brokers: a:1\n')
    const error = refusal({ file, env: {} }, 'config file', file)
    assert.match(error.message, /YAML/)
  })

  it('a file that is not a mapping should be refused', async () => {
    const file = await yamlFile('- kafka\n- clickhouse\n')
    refusal({ file, env: {} }, 'config file', file)
  })

  it('--set without a value or of an unknown key should be refused', () => {
    refusal({ env: {}, overrides: ['agent.intervalMs'] }, 'agent.intervalMs', '--set')
    refusal({ env: {}, overrides: ['agent.colour=red'] }, 'agent.colour', '--set agent.colour')
  })

  it('a password value should never appear in a message', async () => {
    const secret = 'hunter2-s3cr3t'
    const cases: Array<[LoadOptions, string, string]> = []

    const wrongType = await yamlFile('clickhouse:\n  password: 8675309\n')
    cases.push([{ file: wrongType, env: {} }, 'clickhouse.password', wrongType])
    const asList = await yamlFile(`clickhouse:\n  password: [${secret}]\n`)
    cases.push([{ file: asList, env: {} }, 'clickhouse.password', asList])
    const noUser = await yamlFile(`kafka:
  sasl:
    mechanism: PLAIN
    username: ""
    password: ${secret}
`)
    cases.push([{ file: noUser, env: {} }, 'kafka.sasl.username', noUser])
    cases.push([{
      env: {
        VITALS_CLICKHOUSE_PASSWORD: secret,
        VITALS_KAFKA_SASL_PASSWORD: secret,
        VITALS_KAFKA_SASL_USERNAME: 'vitals',
        VITALS_KAFKA_SASL_MECHANISM: 'MD5'
      }
    }, 'kafka.sasl.mechanism', 'VITALS_KAFKA_SASL_MECHANISM'])

    for (const [options, key, source] of cases) {
      const error = refusal(options, key, source)
      assert.ok(!error.message.includes(secret) && !error.message.includes('8675309'),
        `"${error.message}" shows the password`)
    }
  })

  it('a SASL section missing its mechanism should name where the SASL settings came from', () => {
    const error = refusal({
      env: { VITALS_KAFKA_SASL_USERNAME: 'vitals', VITALS_KAFKA_SASL_PASSWORD: 'hunter2' }
    }, 'kafka.sasl.mechanism', 'VITALS_KAFKA_SASL_')
    assert.ok(!error.message.includes('hunter2'))
  })
})

describe('clickhouse.url', () => {
  it('a URL with credentials in it should be refused without repeating them', () => {
    assert.throws(() => loadSettings({ env: { VITALS_CLICKHOUSE_URL: 'https://bob:hunter2secret@ch:8443' } }),
      (error: Error) => error instanceof ConfigError && /clickhouse\.user and clickhouse\.password/.test(error.message) &&
        !error.message.includes('hunter2secret'))
  })

  it('a URL that is not http(s) should name the setting', () => {
    assert.throws(() => loadSettings({ env: { VITALS_CLICKHOUSE_URL: 'tcp://ch:9000' } }),
      /invalid setting clickhouse\.url: expected http:\/\/ or https:\/\/.*VITALS_CLICKHOUSE_URL/)
    assert.throws(() => loadSettings({ env: { VITALS_CLICKHOUSE_URL: 'not a url' } }),
      /invalid setting clickhouse\.url: expected http\(s\):\/\/host:port/)
  })
})

describe('values that end up in SQL or Kafka requests', () => {
  const attempts: Array<[string, string]> = [
    ['VITALS_CLICKHOUSE_DATABASE', 'vitals; DROP DATABASE vitals'],
    ['VITALS_CLICKHOUSE_DATABASE', 'vitals`.`events'],
    ['VITALS_CLICKHOUSE_DATABASE', "vitals' OR '1'='1"],
    ['VITALS_TOPIC', 'metrics/../other'],
    ['VITALS_TOPIC', 'metrics topic'],
    ['VITALS_HOST_ID', 'x'.repeat(129)]
  ]
  for (const [variable, value] of attempts) {
    it(`${variable}=${JSON.stringify(value.slice(0, 40))} should be refused at start`, () => {
      assert.throws(() => loadSettings({ env: { [variable]: value } }), ConfigError)
    })
  }
})
