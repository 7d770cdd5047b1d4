import { parseCommand, settingsFrom, quietInTerminal, settingsOptions } from '../args.ts'
import { connectStore, resolveEndpoints } from '../endpoints.ts'
import type { Logger } from '../../log.ts'
import { migrate } from '../../store/index.ts'

export const usage = `vitals migrate

Creates or updates the ClickHouse database and tables (ingest does this itself at start).`

export async function migrateCommand (argv: string[], log: Logger): Promise<number> {
  const { values } = parseCommand('migrate', argv, settingsOptions)
  const configured = settingsFrom(values)
  quietInTerminal(values, configured)
  const { settings } = await resolveEndpoints(configured, log, { start: false, needs: { kafka: false, clickhouse: true } })
  const store = await connectStore(settings)
  try {
    const applied = await migrate(store, log)
    process.stdout.write(applied.length === 0
      ? `schema of ${settings.clickhouse.database} is up to date (ClickHouse ${store.version.text})\n`
      : `applied migrations ${applied.join(', ')} (ClickHouse ${store.version.text})\n`)
    return 0
  } finally {
    await store.close()
  }
}
