import { pbkdf2Sync, randomBytes } from 'node:crypto'
import { access, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ErrorCodes, UserError } from '../errors.ts'
import { ensureCertificates } from './certs.ts'
import { freePort, isPortFree, LOOPBACK } from './ports.ts'
import type {
  ClickhouseSecureEndpoint, KafkaSecureListener, StackPorts, StackState
} from './state.ts'

/**
 * Optional secure ports for trying the clients' SASL and TLS paths against real servers: a
 * second Kafka listener (SASL_SSL with both Kafka options: a client must verify the broker's
 * certificate and log in as a SCRAM-SHA-512 user) and an HTTPS port on ClickHouse. The plain
 * ports stay as they are for everything else, so this proves the clients, not that the stack
 * is locked down.
 */
export interface StackSecurityOptions {
  /** A SCRAM-SHA-512 Kafka user; `vitals` and a random password unless given. */
  sasl?: { username?: string, password?: string }
  /** Kafka TLS, the certificate signed by a CA of the stack's own (`state.kafkaSecure.caFile`). */
  tls?: boolean
  /** ClickHouse HTTPS with a certificate of the same CA (`state.clickhouseSecure`). */
  clickhouseTls?: boolean
}

/** What `startKafka` needs to add the listener; `endpoint` is what clients need. */
export interface SecureListener {
  endpoint: KafkaSecureListener
  port: number
  /** `listener.name.*` settings for server.properties. */
  properties: Record<string, string>
  /** The `--add-scram` argument, used only when the storage is formatted. */
  scramCredential?: string
}

type Protocol = KafkaSecureListener['protocol']

const MECHANISM = 'SCRAM-SHA-512'
const SCRAM_ITERATIONS = 8192
const DEFAULT_USER = 'vitals'

/** What `startClickhouse` needs for its HTTPS port; `endpoint` is what clients need. */
export interface ClickhouseHttps {
  endpoint: ClickhouseSecureEndpoint
  port: number
  /** The server's private key and certificate chain (PEM), read for both key and certificate. */
  keyAndChainFile: string
}

export function securityDir (home: string): string {
  return join(home, 'kafka', 'security')
}

/**
 * The stack's one CA and the server certificate it signed, used by both servers. It sits under
 * `kafka/` because Kafka had TLS first, and clients of existing stacks hold this CA path.
 */
export function tlsDir (home: string): string {
  return join(securityDir(home), 'tls')
}

function protocolOf (options: StackSecurityOptions): Protocol | undefined {
  const sasl = options.sasl !== undefined
  if (sasl && options.tls === true) return 'SASL_SSL'
  if (sasl) return 'SASL_PLAINTEXT'
  return options.tls === true ? 'SSL' : undefined
}

/**
 * Whether a running stack already has the listener asked for, so it can be reused. No options
 * asks for nothing: the default path reuses a stack whether or not it has one.
 */
export function hasSecurity (state: StackState, options?: StackSecurityOptions): boolean {
  if (options === undefined) return true
  if (options.clickhouseTls === true && state.clickhouseSecure === undefined) return false
  const wanted = protocolOf(options)
  const current = state.kafkaSecure
  if (wanted === undefined) return true
  if (current?.protocol !== wanted) return false
  const { username, password } = options.sasl ?? {}
  return (username === undefined || username === current.sasl?.username) &&
    (password === undefined || password === current.sasl?.password)
}

/**
 * Chooses the listener's port (the one asked for, else the last start's if still free, else a
 * free one), makes the certificates on first use and settles the SCRAM user. Sets
 * `ports.kafkaSecure`; undefined when no security was asked for.
 */
export async function prepareSecurity (
  home: string, options: StackSecurityOptions | undefined, ports: StackPorts,
  wanted: Partial<StackPorts> = {}, remembered?: StackPorts
): Promise<SecureListener | undefined> {
  const protocol = options === undefined ? undefined : protocolOf(options)
  if (options === undefined || protocol === undefined) return undefined

  await mkdir(securityDir(home), { recursive: true, mode: 0o700 })
  const port = await choosePort(ports, 'kafkaSecure', wanted, remembered)
  ports.kafkaSecure = port
  const name = protocol.toLowerCase()
  const endpoint: KafkaSecureListener = { bootstrap: `${LOOPBACK}:${port}`, protocol }
  const properties: Record<string, string> = {}
  let scramCredential: string | undefined

  if (options.tls === true) {
    const certificates = await ensureCertificates(tlsDir(home))
    endpoint.caFile = certificates.caFile
    Object.assign(properties, {
      [`listener.name.${name}.ssl.keystore.type`]: 'PEM',
      [`listener.name.${name}.ssl.keystore.location`]: certificates.keystoreFile,
      [`listener.name.${name}.ssl.client.auth`]: 'none'
    })
  }
  if (options.sasl !== undefined) {
    const user = await scramUser(home, options.sasl)
    endpoint.sasl = { mechanism: MECHANISM, ...user }
    scramCredential = scramArgument(user.username, user.password)
    Object.assign(properties, {
      'sasl.enabled.mechanisms': MECHANISM,
      [`listener.name.${name}.sasl.enabled.mechanisms`]: MECHANISM,
      // SCRAM needs a login module on the listener even though the broker logs in as nobody.
      [`listener.name.${name}.${MECHANISM.toLowerCase()}.sasl.jaas.config`]:
        'org.apache.kafka.common.security.scram.ScramLoginModule required;'
    })
  }
  return { endpoint, port, properties, scramCredential }
}

/**
 * The listener a recorded state had, for starting Kafka again on its own (a restart of one
 * server must not drop the listener that clients of the state rely on).
 */
export async function resumeSecurity (state: StackState): Promise<SecureListener | undefined> {
  const recorded = state.kafkaSecure
  if (recorded === undefined) return undefined
  const { username, password } = recorded.sasl ?? {}
  const options: StackSecurityOptions = {
    sasl: recorded.sasl === undefined ? undefined : { username, password },
    tls: recorded.caFile !== undefined
  }
  return await prepareSecurity(state.home, options, { ...state.ports }, {}, state.ports)
}

/**
 * ClickHouse's HTTPS port, when asked for: its port is chosen like the Kafka listener's (sets
 * `ports.clickhouseHttps`) and it serves the stack's server certificate, so the one CA file
 * verifies both servers.
 */
export async function prepareClickhouseTls (
  home: string, options: StackSecurityOptions | undefined, ports: StackPorts,
  wanted: Partial<StackPorts> = {}, remembered?: StackPorts
): Promise<ClickhouseHttps | undefined> {
  if (options?.clickhouseTls !== true) return undefined

  await mkdir(securityDir(home), { recursive: true, mode: 0o700 })
  const certificates = await ensureCertificates(tlsDir(home))
  const port = await choosePort(ports, 'clickhouseHttps', wanted, remembered)
  ports.clickhouseHttps = port
  return {
    endpoint: { url: `https://${LOOPBACK}:${port}`, caFile: certificates.caFile },
    port,
    keyAndChainFile: certificates.keystoreFile
  }
}

/** The HTTPS port a recorded state had, for starting ClickHouse again on its own. */
export async function resumeClickhouseTls (state: StackState):
  Promise<ClickhouseHttps | undefined> {
  if (state.clickhouseSecure === undefined) return undefined
  return await prepareClickhouseTls(state.home, { clickhouseTls: true }, { ...state.ports }, {},
    state.ports)
}

/**
 * The SCRAM user lives in the broker's metadata from the day the storage was formatted, so it
 * is recorded beside the storage (mode 0600) rather than only in the state file, which a start
 * without security rewrites. A storage formatted without one cannot get one here.
 */
async function scramUser (
  home: string, asked: NonNullable<StackSecurityOptions['sasl']>
): Promise<{ username: string, password: string }> {
  const file = join(securityDir(home), 'scram-user.json')
  const recorded = await readFile(file, 'utf8').then(
    (text) => JSON.parse(text) as { username: string, password: string },
    () => undefined)

  if (recorded !== undefined) {
    if ((asked.username !== undefined && asked.username !== recorded.username) ||
      (asked.password !== undefined && asked.password !== recorded.password)) {
      throw new UserError(ErrorCodes.STACK_PROCESS, `the Kafka storage in ${home} holds SCRAM ` +
        `user ${recorded.username} with its own password; stop the stack and remove ${home} ` +
        'to start it with another user, or leave the user and password out to keep it')
    }
    return recorded
  }
  if (await exists(join(home, 'kafka', 'data', 'meta.properties'))) {
    throw new UserError(ErrorCodes.STACK_PROCESS, `the Kafka storage in ${home} was formatted ` +
      'without a SCRAM user; stop the stack and remove its folder to start it with SASL')
  }

  const username = asked.username ?? DEFAULT_USER
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(username)) {
    throw new UserError(ErrorCodes.STACK_PROCESS,
      'the SCRAM user name of the stack may hold only letters, digits, ".", "_" and "-"')
  }
  const user = { username, password: asked.password ?? randomBytes(18).toString('base64url') }
  await writeFile(file, JSON.stringify(user) + '\n', { mode: 0o600 })
  return user
}

/**
 * StorageTool's `--add-scram` with the salted password rather than the password itself, so
 * the password never reaches the broker's tools and any password works (no quoting rules).
 */
function scramArgument (username: string, password: string): string {
  const salt = randomBytes(32)
  const salted = pbkdf2Sync(password, salt, SCRAM_ITERATIONS, 64, 'sha512')
  return `${MECHANISM}=[name=${username},iterations=${SCRAM_ITERATIONS},` +
    `salt="${salt.toString('base64')}",saltedpassword="${salted.toString('base64')}"]`
}

/**
 * A port for `key`: the one asked for, else the last start's if still free, else a free one
 * that no other server of the stack has or was asked for.
 */
async function choosePort (
  ports: StackPorts, key: 'kafkaSecure' | 'clickhouseHttps', wanted: Partial<StackPorts>,
  remembered?: StackPorts
): Promise<number> {
  const others = Object.entries(ports).filter(([name]) => name !== key)
  const taken = new Set(others.map(([, port]) => port as number))
  const explicit = wanted[key]
  if (explicit) {
    if (taken.has(explicit) || !await isPortFree(explicit)) {
      throw new UserError(ErrorCodes.STACK_PROCESS,
        `port ${explicit} asked for ${key} is already in use`)
    }
    return explicit
  }

  const previous = remembered?.[key]
  if (previous && !taken.has(previous) && await isPortFree(previous)) return previous
  const avoid = new Set([...taken, ...Object.values(wanted)])
  let port = await freePort()
  while (avoid.has(port)) port = await freePort()
  return port
}

async function exists (path: string): Promise<boolean> {
  return access(path).then(() => true, () => false)
}
