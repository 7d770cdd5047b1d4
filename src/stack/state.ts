import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { ErrorCodes, VitalsError } from '../errors.ts'

export interface StackPorts {
  kafka: number
  kafkaController: number
  clickhouseHttp: number
  clickhouseTcp: number
  kafkaSecure?: number // the SASL/TLS listener, only on a start with `security`
  clickhouseHttps?: number // only on a start with `security.clickhouseTls`
}

export interface StackEndpoints {
  kafka: { bootstrap: string } // '127.0.0.1:PORT'
  clickhouse: { url: string, user: string, password: string, database: string }
}

/**
 * Kafka's second listener, there only when the stack was started with `security`. Kept apart
 * from `kafka` so that printing the endpoints never prints the SCRAM password.
 */
export interface KafkaSecureListener {
  bootstrap: string // '127.0.0.1:PORT'
  protocol: 'SASL_SSL' | 'SASL_PLAINTEXT' | 'SSL'
  caFile?: string // PEM of the CA that signed the broker's certificate, with TLS
  sasl?: { mechanism: 'SCRAM-SHA-512', username: string, password: string }
}

/**
 * ClickHouse's HTTPS port, there only when the stack was started with `security.clickhouseTls`.
 * It takes the user and password of `clickhouse`; the plain HTTP port stays as well.
 */
export interface ClickhouseSecureEndpoint {
  url: string // 'https://127.0.0.1:PORT'
  caFile: string // PEM of the CA that signed the server's certificate
}

/**
 * What `state.json` in the stack folder holds. It outlives a stop on purpose: the next start
 * reuses the same ports and password, so settings that point at the stack stay valid. After a
 * stop both pids are 0.
 */
export interface StackState extends StackEndpoints {
  home: string
  pids: { kafka: number, clickhouse: number }
  startedAt: string // ISO time of the last start
  ports: StackPorts
  kafkaSecure?: KafkaSecureListener
  clickhouseSecure?: ClickhouseSecureEndpoint
}

export function stateFile (home: string): string {
  return join(home, 'state.json')
}

export async function readState (home: string): Promise<StackState | undefined> {
  let text: string
  try {
    text = await readFile(stateFile(home), 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  try {
    return JSON.parse(text) as StackState
  } catch (error) {
    throw new VitalsError(ErrorCodes.STACK_PROCESS,
      `${stateFile(home)} is not valid JSON; remove it to start the stack afresh`, { cause: error })
  }
}

/** Written whole and then renamed, mode 0600 because it holds the ClickHouse password. */
export async function writeState (state: StackState): Promise<void> {
  const file = stateFile(state.home)
  const partial = `${file}.${process.pid}.tmp`
  await writeFile(partial, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 })
  await rename(partial, file)
}

/** Creates the stack folder readable by its owner only: it holds data, logs and secrets. */
export async function ensureHome (home: string): Promise<void> {
  await mkdir(home, { recursive: true, mode: 0o700 })
}

export function vitalsHome (): string {
  return process.env.VITALS_HOME ?? join(homedir(), '.vitals')
}

export function defaultStackHome (): string {
  return join(vitalsHome(), 'stack')
}

export function defaultCacheDir (): string {
  if (process.env.VITALS_CACHE_DIR) return process.env.VITALS_CACHE_DIR
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'vitals')
}
