import { parseCommand, parseDuration, settingsFrom, quietInTerminal, settingsOptions } from '../args.ts'
import { connectStore, resolveEndpoints } from '../endpoints.ts'
import { completeness, hostState } from '../../health/liveness.ts'
import type { Logger } from '../../log.ts'
import { completenessPerHost } from '../../store/index.ts'

export const usage = `vitals status [--window 1h] [--json]

One line per host heard from in the window: its state (up, late or down, from the age of its
newest sample against its interval), when it was last heard of, and how complete its samples
are (stored / taken, from the agent's sequence numbers). Exits 1 when a host is not up.`

export async function statusCommand (argv: string[], log: Logger): Promise<number> {
  const { values } = parseCommand('status', argv, {
    ...settingsOptions, json: { type: 'boolean' }, window: { type: 'string' }
  })
  const windowSeconds = Math.max(60, Math.round(parseDuration('--window', values.window ?? '1h') / 1000))
  const configured = settingsFrom(values)
  quietInTerminal(values, configured)
  const { settings } = await resolveEndpoints(configured, log, { start: false, needs: { kafka: false, clickhouse: true } })
  const store = await connectStore(settings)
  try {
    const hosts = (await completenessPerHost(store, windowSeconds)).map((host) => ({
      host: host.host_id,
      hostname: host.hostname,
      state: hostState(host.age_seconds, host.interval_ms),
      lastSample: host.last_sample,
      ageSeconds: host.age_seconds,
      completeness: completeness(host.stored, host.expected),
      stored: host.stored,
      expected: host.expected,
      agentRuns: host.agent_runs,
      boots: host.boots
    }))

    if (values.json === true) {
      process.stdout.write(`${JSON.stringify(hosts, null, 2)}\n`)
    } else if (hosts.length === 0) {
      process.stdout.write('no host has reported in the window\n')
    } else {
      const rows = [['HOST', 'STATE', 'LAST SAMPLE', 'AGE', 'COMPLETE', 'RUNS'], ...hosts.map((host) => [
        host.hostname === '' ? host.host : host.hostname, host.state, host.lastSample,
        `${host.ageSeconds}s`, `${(host.completeness * 100).toFixed(1)}% (${host.stored}/${host.expected})`,
        String(host.agentRuns)
      ])]
      const widths = rows[0].map((_, index) => Math.max(...rows.map((row) => row[index].length)))
      process.stdout.write(rows.map((row) => row.map((cell, index) => cell.padEnd(widths[index]))
        .join('  ').trimEnd()).join('\n') + '\n')
    }
    return hosts.every((host) => host.state === 'up') ? 0 : 1
  } finally {
    await store.close()
  }
}
