import { isUserError, VitalsError } from '../errors.ts'
import { componentLogger, flushLogs } from '../log.ts'
import { VITALS_VERSION } from '../version.ts'

type Command = (argv: string[], log: ReturnType<typeof componentLogger>) => Promise<number>
interface CommandModule { usage: string }

// Loaded on demand: the agent, which runs on every server, then never loads the ClickHouse
// client or the ingest code.
const commands: Record<string, () => Promise<CommandModule>> = {
  up: () => import('./commands/up.ts'),
  agent: () => import('./commands/agent.ts'),
  ingest: () => import('./commands/ingest.ts'),
  stack: () => import('./commands/stack.ts'),
  status: () => import('./commands/status.ts'),
  sql: () => import('./commands/sql.ts'),
  migrate: () => import('./commands/migrate.ts')
}

const overview = `vitals ${VITALS_VERSION}: server performance and health monitor

Usage: vitals <command> [options]

Commands:
  up        run the whole pipeline on this machine with a live view
  agent     sample this machine and publish to Kafka
  ingest    consume from Kafka and store in ClickHouse
  status    which hosts are up, late or down, and how complete their samples are
  stack     start, stop or inspect the local Kafka and ClickHouse
  sql       run a read-only query against ClickHouse
  migrate   create or update the ClickHouse schema

Every command takes --config FILE (YAML), --set key=value and --log-level LEVEL; settings can
also come from VITALS_* environment variables. \`vitals <command> --help\` says more.`

async function main (argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${overview}\n`)
    return name === undefined ? 2 : 0
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${VITALS_VERSION}\n`)
    return 0
  }

  const load = commands[name]
  if (load === undefined) {
    process.stderr.write(`vitals: unknown command ${JSON.stringify(name)}\n\n${overview}\n`)
    return 2
  }
  const command = await load()
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.usage}\n`)
    return 0
  }
  const run = (command as unknown as Record<string, Command>)[`${name}Command`]
  return await run(rest, componentLogger(name))
}

try {
  process.exitCode = await main(process.argv.slice(2))
} catch (error) {
  if (isUserError(error)) {
    process.stderr.write(`vitals: ${error.message}\n`)
    process.exitCode = 2
  } else if (error instanceof VitalsError) {
    // A condition Vitals recognised (a server that did not get ready, one that died): its
    // message says what happened; the stack would only say where in Vitals it was noticed.
    process.stderr.write(`vitals: ${error.message}\n`)
    process.exitCode = 1
  } else {
    componentLogger('cli').fatal({ err: error }, 'vitals failed')
    process.exitCode = 1
  }
} finally {
  flushLogs()
}
// Clients may hold sockets or timers open after a clean stop; the command is done.
setTimeout(() => process.exit(), 200).unref()
