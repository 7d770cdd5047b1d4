import { ClickHouseLogLevel, createClient, type ClickHouseClient, type ClickHouseSettings }
  from '@clickhouse/client'
import { readCaFile } from '../config/ca-file.ts'
import { featuresOf, parseVersion, type Features, type ServerVersion } from './features.ts'
import { bindLiterals, identifier, type ParamValue } from './sql.ts'

export interface StoreConfig {
  url: string
  user: string
  password: string
  /** PEM CA that signed the server's certificate, for https:// URLs; the system CAs if unset. */
  caFile?: string
  database: string
  requestTimeoutMs: number
}

export interface QueryOptions {
  /** Runs with ClickHouse's `readonly=1`: the server refuses anything that writes. */
  readonly?: boolean
  settings?: ClickHouseSettings
}

/**
 * The project's one door to ClickHouse: it knows the server version, binds parameters the way
 * that server understands, and qualifies tables with the configured database.
 */
export class Store {
  readonly client: ClickHouseClient
  readonly version: ServerVersion
  readonly features: Features
  readonly database: string

  private constructor (client: ClickHouseClient, version: ServerVersion, database: string) {
    this.client = client
    this.version = version
    this.features = featuresOf(version)
    this.database = database
  }

  static async connect (config: StoreConfig): Promise<Store> {
    // With a CA of its own the client trusts that CA only, and sends the login in
    // X-ClickHouse-User/-Key headers rather than Basic auth; 18.16 understands both.
    const tls = config.caFile && /^https:/i.test(config.url)
      ? { ca_cert: readCaFile('clickhouse.caFile', config.caFile) }
      : undefined
    const client = createClient({
      url: config.url,
      username: config.user,
      password: config.password,
      tls,
      request_timeout: config.requestTimeoutMs,
      application: 'vitals',
      // Failures reach the caller as errors, which decides what is worth logging; the client's
      // own log would print each one a second time, with a stack, on stderr.
      log: { level: ClickHouseLogLevel.OFF },
      // The database may not exist yet: every statement names it explicitly.
      database: 'default'
    })
    try {
      const result = await client.query({ query: 'SELECT version() AS version', format: 'JSONEachRow' })
      const rows = await result.json<{ version: string }>()
      return new Store(client, parseVersion(rows[0].version), config.database)
    } catch (error) {
      await client.close()
      throw error
    }
  }

  /** `db.table`, quoted. */
  table (name: string): string {
    return `${identifier(this.database)}.${identifier(name)}`
  }

  async query<T> (sql: string, params: Record<string, ParamValue> = {},
    options: QueryOptions = {}): Promise<T[]> {
    const result = await this.client.query({
      ...this.bind(sql, params),
      format: 'JSONEachRow',
      clickhouse_settings: this.settings(options)
    })
    return await result.json<T>()
  }

  async command (sql: string, params: Record<string, ParamValue> = {}): Promise<void> {
    await this.client.command({ ...this.bind(sql, params) })
  }

  async insert (table: string, rows: object[]): Promise<void> {
    if (rows.length === 0) {
      return
    }
    await this.client.insert({ table: this.table(table), values: rows, format: 'JSONEachRow' })
  }

  async close (): Promise<void> {
    await this.client.close()
  }

  private bind (sql: string, params: Record<string, ParamValue>):
    { query: string, query_params?: Record<string, unknown> } {
    if (Object.keys(params).length === 0) {
      return { query: sql }
    }
    return this.features.queryParameters
      ? { query: sql, query_params: params }
      : { query: bindLiterals(sql, params) }
  }

  private settings (options: QueryOptions): ClickHouseSettings | undefined {
    if (options.readonly === true) {
      return { ...options.settings, readonly: '1' }
    }
    return options.settings
  }
}

