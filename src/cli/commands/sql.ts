import { parseCommand, settingsFrom, quietInTerminal, settingsOptions } from '../args.ts'
import { connectStore, resolveEndpoints } from '../endpoints.ts'
import { ErrorCodes, UserError } from '../../errors.ts'
import type { Logger } from '../../log.ts'

export const usage = `vitals sql "SELECT ..." [--json]

Runs one read-only query against the configured ClickHouse (or the local stack) and prints the
rows tab-separated with a header line, or as JSON lines with --json. The server refuses any
statement that would write (it runs with ClickHouse's readonly=1).`

export async function sqlCommand (argv: string[], log: Logger): Promise<number> {
  const { values, positionals } = parseCommand('sql', argv, { ...settingsOptions, json: { type: 'boolean' } })
  if (positionals.length !== 1 || positionals[0].trim() === '') {
    throw new UserError(ErrorCodes.USAGE, `sql: expected one query in quotes\n\n${usage}`)
  }
  const configured = settingsFrom(values)
  quietInTerminal(values, configured)
  const { settings } = await resolveEndpoints(configured, log, { start: false, needs: { kafka: false, clickhouse: true } })
  const store = await connectStore(settings)
  try {
    let rows: Array<Record<string, unknown>>
    try {
      rows = await store.query<Record<string, unknown>>(positionals[0], {}, {
        readonly: true,
        settings: { max_result_rows: '100000', result_overflow_mode: 'break' }
      })
    } catch (error) {
      throw new UserError(ErrorCodes.USAGE, `sql: ${(error as Error).message.split('\n')[0]}`)
    }
    process.stdout.write(values.json === true ? jsonLines(rows) : tabSeparated(rows))
    return 0
  } finally {
    await store.close()
  }
}

function jsonLines (rows: Array<Record<string, unknown>>): string {
  return rows.map((row) => `${JSON.stringify(row)}\n`).join('')
}

function tabSeparated (rows: Array<Record<string, unknown>>): string {
  if (rows.length === 0) {
    return ''
  }
  const cell = (value: unknown) => (typeof value === 'object' && value !== null
    ? JSON.stringify(value) : String(value)).replace(/[\t\n]/g, ' ')
  const names = Object.keys(rows[0])
  return [names.join('\t'), ...rows.map((row) => names.map((name) => cell(row[name])).join('\t'))]
    .join('\n') + '\n'
}
