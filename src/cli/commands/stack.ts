import { settingsFrom, quietInTerminal, parseCommand, settingsOptions } from '../args.ts'
import { ErrorCodes, UserError } from '../../errors.ts'
import type { Logger } from '../../log.ts'
import { ensureKafkaJars, stackStatus, startStack, stopStack } from '../../stack/index.ts'

export const usage = `vitals stack start|stop|status|fetch [--json]

Runs the local Kafka broker and ClickHouse server that Vitals uses when no external ones are
configured. Their files live in stack.home (default ~/.vitals/stack).
  start    start both (or reuse them when already running) and wait until they answer
  stop     stop both by their process ids
  status   say whether they run and where: Kafka bootstrap, ClickHouse URL, database, user
  fetch    only download the Kafka jars into the cache (done by start when needed)`

export async function stackCommand (argv: string[], log: Logger): Promise<number> {
  const { values, positionals } = parseCommand('stack', argv, { ...settingsOptions, json: { type: 'boolean' } })
  const settings = settingsFrom(values)
  quietInTerminal(values, settings)
  const home = settings.stack.home
  const say = (line: string) => process.stderr.write(`${line}\n`)

  switch (positionals[0]) {
    case 'start': {
      const { state } = await startStack({ home, log, onProgress: say })
      printEndpoints(state, values.json === true)
      return 0
    }
    case 'stop': {
      const stopped = await stopStack(home, { log })
      say(stopped ? 'the local stack is stopped' : 'the local stack was not running')
      return 0
    }
    case 'status': {
      const status = await stackStatus(home)
      if (values.json === true) {
        process.stdout.write(`${JSON.stringify({
          running: status.running,
          kafka: { running: status.kafka, bootstrap: status.state?.kafka.bootstrap ?? null },
          clickhouse: {
            running: status.clickhouse,
            url: status.state?.clickhouse.url ?? null,
            database: settings.clickhouse.database,
            user: status.state?.clickhouse.user ?? null
          },
          home,
          pids: status.state?.pids ?? null
        }, null, 2)}\n`)
      } else if (status.state === undefined) {
        process.stdout.write(`not running (no stack in ${home})\n`)
      } else {
        process.stdout.write(`${status.running ? 'running' : 'not running'}\n` +
          `kafka       ${status.kafka ? 'up  ' : 'down'}  ${status.state.kafka.bootstrap}  pid ${status.state.pids.kafka}\n` +
          `clickhouse  ${status.clickhouse ? 'up  ' : 'down'}  ${status.state.clickhouse.url}  ` +
          `database ${settings.clickhouse.database}  user ${status.state.clickhouse.user}  pid ${status.state.pids.clickhouse}\n` +
          `home        ${home}\n`)
      }
      return status.running ? 0 : 3
    }
    case 'fetch': {
      const libs = await ensureKafkaJars({ log, onProgress: say })
      say(`Kafka jars are in ${libs}`)
      return 0
    }
    default:
      throw new UserError(ErrorCodes.USAGE, `stack: expected start, stop, status or fetch\n\n${usage}`)
  }
}

function printEndpoints (state: { kafka: { bootstrap: string }, clickhouse: { url: string,
  user: string, database: string } }, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ kafka: state.kafka, clickhouse: {
      url: state.clickhouse.url, user: state.clickhouse.user, database: state.clickhouse.database
    } }, null, 2)}\n`)
  } else {
    process.stdout.write(`kafka       ${state.kafka.bootstrap}\nclickhouse  ${state.clickhouse.url}` +
      `  database ${state.clickhouse.database}  user ${state.clickhouse.user}\n`)
  }
}
