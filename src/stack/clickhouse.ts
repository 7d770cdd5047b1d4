import { createHash, randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ErrorCodes, VitalsError } from '../errors.ts'
import { LOOPBACK } from './ports.ts'
import { spawnDetached } from './process.ts'
import type { ClickhouseHttps } from './security.ts'
import type { StackPorts } from './state.ts'
import type { Tool } from './tools.ts'

export const CLICKHOUSE_USER = 'vitals'
export const CLICKHOUSE_DATABASE = 'vitals'

export interface ClickhouseLayout {
  dir: string
  configFile: string
  usersFile: string
  dataDir: string
  logFile: string
  errorLogFile: string
  outputFile: string
}

export function clickhouseLayout (home: string): ClickhouseLayout {
  const dir = join(home, 'clickhouse')
  return {
    dir,
    configFile: join(dir, 'config.xml'),
    usersFile: join(dir, 'users.xml'),
    dataDir: join(dir, 'data'),
    logFile: join(dir, 'logs', 'clickhouse-server.log'),
    errorLogFile: join(dir, 'logs', 'clickhouse-server.err.log'),
    outputFile: join(dir, 'logs', 'stdout.log')
  }
}

export function newPassword (): string {
  return randomBytes(18).toString('base64url')
}

/**
 * Server settings for ClickHouse 18.16 (root element `yandex`, paths must end with '/').
 * Loopback only, no interserver port, caches sized for a laptop rather than the 5-8 GB
 * defaults, and UTC so stored DateTime values read the same on every machine.
 */
function configXml (layout: ClickhouseLayout, ports: StackPorts, https?: ClickhouseHttps): string {
  const folder = (name: string): string => join(layout.dir, name) + '/'
  return `<?xml version="1.0"?>
<!-- Written by vitals on every start; edits are lost. -->
<yandex>
  <logger>
    <level>information</level>
    <log>${layout.logFile}</log>
    <errorlog>${layout.errorLogFile}</errorlog>
    <size>10M</size>
    <count>3</count>
  </logger>
  <listen_host>${LOOPBACK}</listen_host>
  <http_port>${ports.clickhouseHttp}</http_port>
  <tcp_port>${ports.clickhouseTcp}</tcp_port>
${https === undefined ? '' : httpsXml(https)}  <path>${folder('data')}</path>
  <tmp_path>${folder('tmp')}</tmp_path>
  <user_files_path>${folder('user_files')}</user_files_path>
  <format_schema_path>${folder('format_schemas')}</format_schema_path>
  <users_config>${layout.usersFile}</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <max_connections>1024</max_connections>
  <keep_alive_timeout>3</keep_alive_timeout>
  <max_concurrent_queries>100</max_concurrent_queries>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <mlock_executable>false</mlock_executable>
</yandex>
`
}

/**
 * The HTTPS port for 18.16, whose server reads `openSSL.server` through Poco's SSLManager.
 * The key and the chain come from one PEM file (Poco reads the first key and the certificates
 * in order). No `dhParamsFile`: the certificate is ECDSA, so key exchange is ECDHE, and 18.16
 * starts without one. Clients are not asked for a certificate. A file it cannot read makes the
 * server exit at start, so a stack with a broken HTTPS port never reports ready.
 */
function httpsXml (https: ClickhouseHttps): string {
  return `  <https_port>${https.port}</https_port>
  <openSSL>
    <server>
      <certificateFile>${https.keyAndChainFile}</certificateFile>
      <privateKeyFile>${https.keyAndChainFile}</privateKeyFile>
      <verificationMode>none</verificationMode>
      <loadDefaultCAFile>false</loadDefaultCAFile>
      <cacheSessions>true</cacheSessions>
      <disableProtocols>sslv2,sslv3,tlsv1,tlsv1_1</disableProtocols>
      <preferServerCiphers>true</preferServerCiphers>
    </server>
  </openSSL>
`
}

/**
 * Two users, both loopback only and both with a password: `vitals` for the project, and
 * `default` because 18.16 always has one and would otherwise accept anyone without a password.
 * Nobody needs the default user, so its password is thrown away.
 */
function usersXml (password: string): string {
  const user = (name: string, secret: string): string => `    <${name}>
      <password_sha256_hex>${sha256(secret)}</password_sha256_hex>
      <networks>
        <ip>127.0.0.1</ip>
        <ip>::1</ip>
      </networks>
      <profile>default</profile>
      <quota>default</quota>
    </${name}>`
  return `<?xml version="1.0"?>
<!-- Written by vitals on every start; edits are lost. -->
<yandex>
  <profiles>
    <default>
      <max_memory_usage>2000000000</max_memory_usage>
      <load_balancing>random</load_balancing>
    </default>
    <readonly>
      <readonly>1</readonly>
    </readonly>
  </profiles>
  <users>
${user('default', newPassword())}
${user(CLICKHOUSE_USER, password)}
  </users>
  <quotas>
    <default>
      <interval>
        <duration>3600</duration>
        <queries>0</queries>
        <errors>0</errors>
        <result_rows>0</result_rows>
        <read_rows>0</read_rows>
        <execution_time>0</execution_time>
      </interval>
    </default>
  </quotas>
</yandex>
`
}

function sha256 (text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

export interface StartClickhouseOptions {
  home: string
  ports: StackPorts
  password: string
  server: Tool
  https?: ClickhouseHttps // an HTTPS port beside the HTTP one, see security.ts
}

export async function startClickhouse (options: StartClickhouseOptions): Promise<number> {
  const layout = clickhouseLayout(options.home)
  for (const name of ['logs', 'data', 'tmp', 'user_files', 'format_schemas']) {
    await mkdir(join(layout.dir, name), { recursive: true })
  }
  await writeFile(layout.configFile, configXml(layout, options.ports, options.https))
  await writeFile(layout.usersFile, usersXml(options.password), { mode: 0o600 })

  return spawnDetached(options.server.command,
    [...options.server.args, `--config-file=${layout.configFile}`],
    { cwd: layout.dir, outputFile: layout.outputFile })
}

export interface ClickhouseAccess {
  url: string
  user: string
  password: string
}

/** Sends one statement over HTTP, the same interface @clickhouse/client speaks. */
export async function clickhouseQuery (
  access: ClickhouseAccess, sql: string, timeoutMs = 3000
): Promise<string> {
  const auth = Buffer.from(`${access.user}:${access.password}`).toString('base64')
  const response = await fetch(access.url, {
    method: 'POST',
    body: sql,
    headers: { authorization: `Basic ${auth}` },
    signal: AbortSignal.timeout(timeoutMs)
  })
  const text = await response.text()
  if (!response.ok) {
    throw new VitalsError(ErrorCodes.STORE_REJECTED,
      `ClickHouse answered ${response.status}: ${text.trim()}`)
  }
  return text
}

/** Ready means /ping answers and the vitals user can run a query. */
export async function clickhouseAnswers (
  access: ClickhouseAccess, timeoutMs = 3000
): Promise<boolean> {
  try {
    const signal = AbortSignal.timeout(timeoutMs)
    const ping = await fetch(new URL('/ping', access.url), { signal })
    if ((await ping.text()).trim() !== 'Ok.') return false
    return /^\d+\./.test(await clickhouseQuery(access, 'SELECT version()', timeoutMs))
  } catch {
    return false
  }
}
