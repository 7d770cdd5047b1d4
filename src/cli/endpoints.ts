import type { Settings } from '../config/index.ts'
import { ErrorCodes, UserError } from '../errors.ts'
import type { Logger } from '../log.ts'
import { stackStatus, startStack } from '../stack/index.ts'
import { Store } from '../store/index.ts'

export interface Resolved {
  settings: Readonly<Settings>
  /** Whether this process started the local stack (and so should stop it). */
  startedStack: boolean
  usesStack: boolean
}

/** Which services a command talks to. */
export interface Needs {
  kafka: boolean
  clickhouse: boolean
}

function needsStack (settings: Settings, needs: Needs): boolean {
  return (needs.kafka && settings.kafka.brokers.length === 0) ||
    (needs.clickhouse && settings.clickhouse.url === '')
}

/**
 * Fills in the endpoints that the settings leave empty from the local stack. With `start`, a
 * stack that is not running is started; otherwise its absence is a clear error.
 */
export async function resolveEndpoints (settings: Readonly<Settings>, log: Logger,
  options: { start: boolean, needs: Needs, onProgress?: (line: string) => void }): Promise<Resolved> {
  if (!needsStack(settings, options.needs)) {
    return { settings, startedStack: false, usesStack: false }
  }

  let startedStack = false
  const status = await stackStatus(settings.stack.home)
  let state = status.state
  if (!status.running) {
    if (!options.start) {
      const variables = [options.needs.kafka ? 'VITALS_KAFKA_BROKERS' : '',
        options.needs.clickhouse ? 'VITALS_CLICKHOUSE_URL' : ''].filter((name) => name !== '')
      throw new UserError(ErrorCodes.USAGE, 'no Kafka or ClickHouse is configured and the local ' +
        'stack is not running: start it with `vitals stack start`, or set ' + variables.join(' and '))
    }
    const started = await startStack({ home: settings.stack.home, log, onProgress: options.onProgress })
    state = started.state
    startedStack = !started.reused
  }
  if (state === undefined) {
    throw new UserError(ErrorCodes.STACK_PROCESS, `the local stack in ${settings.stack.home} has no state`)
  }

  const merged: Settings = structuredClone(settings) as Settings
  if (merged.kafka.brokers.length === 0) {
    merged.kafka.brokers = [state.kafka.bootstrap]
  }
  if (merged.clickhouse.url === '') {
    merged.clickhouse.url = state.clickhouse.url
    merged.clickhouse.user = state.clickhouse.user
    merged.clickhouse.password = state.clickhouse.password
  }
  return { settings: Object.freeze(merged), startedStack, usesStack: true }
}

export async function connectStore (settings: Settings): Promise<Store> {
  try {
    return await Store.connect(settings.clickhouse)
  } catch (error) {
    if (error instanceof UserError) throw error
    throw new UserError(ErrorCodes.STORE_UNAVAILABLE,
      `cannot reach ClickHouse at ${settings.clickhouse.url} as ${settings.clickhouse.user}: ` +
      (error as Error).message.split('\n')[0], { cause: error })
  }
}
