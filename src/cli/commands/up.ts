import { parseCommand, parseDuration, quietInTerminal, settingsFrom, settingsOptions } from '../args.ts'
import { resolveEndpoints } from '../endpoints.ts'
import { abortedBy, untilSignal } from '../lifecycle.ts'
import { renderHosts } from '../live-view.ts'
import { startIngest } from './ingest.ts'
import { startAgent } from '../../agent/agent.ts'
import type { Logger } from '../../log.ts'
import { stopStack } from '../../stack/index.ts'
import { latestPerHost, type Store } from '../../store/index.ts'

export const usage = `vitals up [--interval 10s] [--config FILE] [--set key=value ...]

Runs the whole pipeline on this machine: the local Kafka and ClickHouse (unless
VITALS_KAFKA_BROKERS and VITALS_CLICKHOUSE_URL point elsewhere), the agent, ingest, and a live
view of the newest sample per host. Ctrl+C stops everything, flushing what each part holds.`

export async function upCommand (argv: string[], log: Logger): Promise<number> {
  const { values } = parseCommand('up', argv, { ...settingsOptions, interval: { type: 'string' } })
  const extra = values.interval === undefined ? []
    : [`agent.intervalMs=${parseDuration('--interval', values.interval)}`]
  const interactive = process.stdout.isTTY === true
  const configured = settingsFrom(values, extra)
  // The live view owns an interactive terminal; only warnings and errors are logged over it.
  quietInTerminal(values, configured, interactive)

  const stopping = untilSignal(log)
  const stopped = abortedBy(stopping)
  const { settings, startedStack } = await resolveEndpoints(configured, log, {
    start: true, needs: { kafka: true, clickhouse: true }, onProgress: (line) => process.stderr.write(`${line}\n`)
  })

  const stopOwnStack = async (timeoutMs: number) => {
    if (startedStack) await stopStack(settings.stack.home, { log, timeoutMs })
  }
  let started: Awaited<ReturnType<typeof startIngest>> | undefined
  let agent: Awaited<ReturnType<typeof startAgent>>
  try {
    started = await startIngest(settings, log, stopped)
    agent = await startAgent(settings, log)
  } catch (error) {
    // A stack this command started is not left behind by a part that could not start.
    await started?.ingest.stop(stopBudgetMs.ingest)
    await started?.store.close()
    await stopOwnStack(stopBudgetMs.total)
    // Ctrl+C while ingest still waited for a server is a stop, not a failure.
    if (stopped.aborted) return 0
    throw error
  }
  const { ingest, store } = started
  const view = startLiveView(store, interactive, log)

  await Promise.race([stopping, ingest.failed])
  const stopStarted = Date.now()
  clearInterval(view)
  const undelivered = await agent.stop(stopBudgetMs.agent)
  await ingest.stop(stopBudgetMs.ingest)
  await store.close()
  // The stack gets what is left of the budget; a server still running after it is killed.
  await stopOwnStack(Math.max(1000, stopBudgetMs.total - (Date.now() - stopStarted)))
  log.info({ ms: Date.now() - stopStarted, undelivered }, 'vitals stopped')
  return undelivered === 0 && ingest.failure === undefined ? 0 : 1
}

/** Ctrl+C stops everything within `total`: each part flushes within its share. */
const stopBudgetMs = { total: 14_000, agent: 4000, ingest: 4000 }

function startLiveView (store: Store, interactive: boolean, log: Logger): NodeJS.Timeout {
  let last = ''
  let busy = false
  const refresh = async () => {
    if (busy) return
    busy = true
    try {
      const hosts = await latestPerHost(store)
      const stamp = hosts.map((host) => `${host.host_id}@${host.time}`).join(',')
      if (interactive) {
        process.stdout.write(`\x1b[H\x1b[2J${renderHosts(hosts)}\n\nCtrl+C stops everything.\n`)
      } else if (stamp !== last) {
        // A pipe or a log file gets a new table only when a new sample is stored.
        process.stdout.write(`${renderHosts(hosts)}\n\n`)
      }
      last = stamp
    } catch (error) {
      log.debug({ error: (error as Error).message }, 'live view query failed')
    } finally {
      busy = false
    }
  }
  void refresh()
  return setInterval(() => void refresh(), 2000)
}
