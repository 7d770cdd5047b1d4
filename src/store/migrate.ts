import type { Logger } from '../log.ts'
import type { Store } from './client.ts'
import { migrations as allMigrations, type Migration, type SchemaOptions } from './schema.ts'
import { identifier } from './sql.ts'

export const defaultSchemaOptions = { eventRetentionDays: 30, sampleRetentionDays: 400 }

/**
 * Brings the database to the newest schema. Applied versions are recorded in
 * `schema_migrations`; a migration's statements are idempotent, so two processes migrating at
 * once, or a crash between a statement and its record, leave a correct schema behind.
 */
export async function migrate (store: Store, log: Logger,
  options: Partial<Omit<SchemaOptions, 'database'>> = {},
  migrations: Migration[] = allMigrations): Promise<number[]> {
  const schemaOptions: SchemaOptions = { ...defaultSchemaOptions, ...options, database: store.database }
  await store.command(`CREATE DATABASE IF NOT EXISTS ${identifier(store.database)}`)
  await store.command(`CREATE TABLE IF NOT EXISTS ${store.table('schema_migrations')} (
  version UInt32,
  name String,
  server_version String,
  applied_at DateTime
) ENGINE = ReplacingMergeTree ORDER BY version`)

  const rows = await store.query<{ version: number }>(
    `SELECT DISTINCT version FROM ${store.table('schema_migrations')}`)
  const applied = new Set(rows.map((row) => Number(row.version)))

  const done: number[] = []
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    if (applied.has(migration.version)) {
      continue
    }
    for (const statement of migration.statements(store.features, schemaOptions)) {
      await store.command(statement)
    }
    await store.insert('schema_migrations', [{
      version: migration.version,
      name: migration.name,
      server_version: store.version.text,
      applied_at: Math.floor(Date.now() / 1000)
    }])
    log.info({ version: migration.version, name: migration.name, server: store.version.text },
      'schema migration applied')
    done.push(migration.version)
  }
  return done
}
