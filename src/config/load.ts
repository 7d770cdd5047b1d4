import { readFileSync } from 'node:fs'
import { Value } from '@sinclair/typebox/value'
import { Kind, type TSchema } from '@sinclair/typebox'
import { parse as parseYaml } from 'yaml'
import { ConfigError } from '../errors.ts'
import { defaultSettings } from './defaults.ts'
import { SettingsSchema, type Settings } from './schema.ts'

/**
 * Settings come from, lowest precedence first: defaults, a YAML file (`--config` or
 * VITALS_CONFIG), environment variables, then `--set key=value` flags. The result is validated
 * once and frozen; a bad value stops the program with one line naming the key and its source.
 */

/** Environment variables and the setting each one sets. */
export const environmentKeys: Record<string, string> = {
  VITALS_KAFKA_BROKERS: 'kafka.brokers',
  VITALS_TOPIC: 'kafka.topic',
  VITALS_DLQ_TOPIC: 'kafka.deadLetterTopic',
  VITALS_KAFKA_SASL_MECHANISM: 'kafka.sasl.mechanism',
  VITALS_KAFKA_SASL_USERNAME: 'kafka.sasl.username',
  VITALS_KAFKA_SASL_PASSWORD: 'kafka.sasl.password',
  VITALS_KAFKA_TLS: 'kafka.tls.enabled',
  VITALS_KAFKA_TLS_CA_FILE: 'kafka.tls.caFile',
  VITALS_CLICKHOUSE_URL: 'clickhouse.url',
  VITALS_CLICKHOUSE_USER: 'clickhouse.user',
  VITALS_CLICKHOUSE_PASSWORD: 'clickhouse.password',
  VITALS_CLICKHOUSE_CA_FILE: 'clickhouse.caFile',
  VITALS_CLICKHOUSE_DATABASE: 'clickhouse.database',
  VITALS_INTERVAL_MS: 'agent.intervalMs',
  VITALS_HOST_ID: 'agent.hostId',
  VITALS_STACK_HOME: 'stack.home',
  VITALS_LOG_LEVEL: 'log.level'
}

export interface LoadOptions {
  /** YAML file; defaults to VITALS_CONFIG. */
  file?: string
  env?: NodeJS.ProcessEnv
  /** `key=value` pairs, as given to `--set`. */
  overrides?: string[]
}

type Tree = Record<string, unknown>

export function loadSettings (options: LoadOptions = {}): Readonly<Settings> {
  const env = options.env ?? process.env
  const settings = defaultSettings() as unknown as Tree
  const sources = new Map<string, string>()

  const file = options.file ?? env.VITALS_CONFIG
  if (file !== undefined && file !== '') {
    mergeFile(settings, file, sources)
  }

  for (const [variable, key] of Object.entries(environmentKeys)) {
    const raw = env[variable]
    if (raw !== undefined) {
      assign(settings, key, coerce(key, raw, variable), sources, variable)
    }
  }

  for (const pair of options.overrides ?? []) {
    const equals = pair.indexOf('=')
    if (equals <= 0) {
      throw new ConfigError(pair, 'expected --set key=value')
    }
    const key = pair.slice(0, equals)
    assign(settings, key, coerce(key, pair.slice(equals + 1), `--set ${key}`), sources,
      `--set ${key}`)
  }

  validate(settings, sources)
  checkClickHouseUrl((settings as unknown as Settings).clickhouse.url, sources.get('clickhouse.url'))
  return deepFreeze(settings) as unknown as Readonly<Settings>
}

function mergeFile (settings: Tree, file: string, sources: Map<string, string>): void {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new ConfigError('config file', `cannot read ${file}: ${(error as Error).message}`)
  }

  let document: unknown
  try {
    document = parseYaml(text)
  } catch (error) {
    const detail = (error as Error).message.split('\n')[0]
    throw new ConfigError('config file', `${file} is not valid YAML: ${detail}`)
  }
  if (document === null || document === undefined) {
    return
  }
  if (typeof document !== 'object' || Array.isArray(document)) {
    throw new ConfigError('config file', `${file} must hold a mapping of settings`)
  }

  const visit = (node: Tree, prefix: string): void => {
    for (const [name, value] of Object.entries(node)) {
      const key = prefix === '' ? name : `${prefix}.${name}`
      const schema = schemaAt(key)
      if (schema === undefined) {
        throw new ConfigError(key, `unknown setting (in ${file})`)
      }
      if (schema[Kind] === 'Object' && isTree(value)) {
        visit(value, key)
      } else {
        const coerced = typeof value === 'string' ? coerce(key, value, file) : value
        assign(settings, key, coerced, sources, file)
      }
    }
  }
  visit(document as Tree, '')
}

/** The schema of one dotted key, or undefined when no such setting exists. */
function schemaAt (key: string): TSchema | undefined {
  let schema: TSchema | undefined = SettingsSchema
  for (const part of key.split('.')) {
    if (schema?.[Kind] !== 'Object') {
      return undefined
    }
    schema = (schema.properties as Record<string, TSchema>)[part]
  }
  return schema
}

/** Turns text from the environment or a flag into the type the setting wants. */
function coerce (key: string, raw: string, source: string): unknown {
  const schema = schemaAt(key)
  if (schema === undefined) {
    throw new ConfigError(key, `unknown setting (from ${source})`)
  }

  switch (schema[Kind]) {
    case 'Integer':
    case 'Number': {
      const value = raw.trim() === '' ? Number.NaN : Number(raw)
      if (!Number.isFinite(value)) {
        throw new ConfigError(key, `must be a number, got ${JSON.stringify(raw)} (from ${source})`)
      }
      return value
    }
    case 'Boolean':
      if (/^(true|1|yes|on)$/i.test(raw)) return true
      if (/^(false|0|no|off)$/i.test(raw)) return false
      throw new ConfigError(key, `must be true or false, got ${JSON.stringify(raw)} (from ${source})`)
    case 'Array':
      return raw.split(',').map((item) => item.trim()).filter((item) => item !== '')
    case 'Record':
      return Object.fromEntries(raw.split(',').filter((item) => item.trim() !== '').map((item) => {
        const [name, ...rest] = item.split('=')
        if (rest.length === 0) {
          throw new ConfigError(key, `expected name=value pairs, got ${JSON.stringify(item)} (from ${source})`)
        }
        return [name.trim(), rest.join('=').trim()]
      }))
    default:
      return raw
  }
}

function assign (settings: Tree, key: string, value: unknown, sources: Map<string, string>,
  source: string): void {
  const parts = key.split('.')
  let node = settings
  for (const part of parts.slice(0, -1)) {
    if (!isTree(node[part])) {
      node[part] = {}
    }
    node = node[part] as Tree
  }
  node[parts[parts.length - 1]] = value
  sources.set(key, source)
}

function validate (settings: Tree, sources: Map<string, string>): void {
  const error = Value.Errors(SettingsSchema, settings).First()
  if (error === undefined) {
    return
  }

  const key = error.path.split('/').filter((part) => part !== '').join('.')
  const parent = key.split('.').slice(0, -1).join('.')
  const source = [...sources.keys()].reverse().find((known) => key === known ||
    key.startsWith(`${known}.`) || known.startsWith(`${key}.`)) ??
    [...sources.keys()].reverse().find((known) => parent !== '' && known.startsWith(`${parent}.`))
  const from = source === undefined ? '' : ` (from ${sources.get(source)})`
  const secret = /password|sasl|clickhouse$|kafka$/i.test(key) || typeof error.value === 'object'
  const got = error.value === undefined || secret ? '' : `, got ${JSON.stringify(error.value)}`
  throw new ConfigError(key === '' ? 'settings' : key, `${describe(error.schema, error.message)}${got}${from}`)
}

/**
 * The URL is shown in error messages, so it must not carry credentials: those belong in
 * clickhouse.user and clickhouse.password, which are never shown.
 */
function checkClickHouseUrl (url: string, source: string | undefined): void {
  if (url === '') return
  const from = source === undefined ? '' : ` (from ${source})`
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new ConfigError('clickhouse.url', `expected http(s)://host:port${from}`)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError('clickhouse.url', `expected http:// or https://, got ${parsed.protocol}${from}`)
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new ConfigError('clickhouse.url', 'must not contain a user or password: set ' +
      `clickhouse.user and clickhouse.password (VITALS_CLICKHOUSE_USER, _PASSWORD) instead${from}`)
  }
}

function describe (schema: TSchema, message: string): string {
  const choices = (schema.anyOf as TSchema[] | undefined)?.map((option) => option.const)
  if (choices !== undefined && choices.every((choice) => typeof choice === 'string')) {
    return `must be one of ${choices.join(', ')}`
  }
  if (schema.pattern !== undefined && schema.description !== undefined) {
    return `expected ${schema.description}`
  }
  return message.charAt(0).toLowerCase() + message.slice(1)
}

function isTree (value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function deepFreeze<T> (value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) {
      deepFreeze(child)
    }
    Object.freeze(value)
  }
  return value
}
