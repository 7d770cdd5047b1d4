import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { AgentProbeResult } from './agent-probe.ts'

export type { AgentProbeResult } from './agent-probe.ts'

export interface AgentCost extends AgentProbeResult {
  /** RSS of `node -e` doing nothing: the floor any Node agent starts from */
  bareNodeRssBytes: number
  /** the same with tsx's loader registered, as bin/vitals.js runs when dist/ is stale */
  tsxNodeRssBytes: number
  /** bare Node that has imported the Kafka client library and nothing else */
  kafkaNodeRssBytes: number
}

const probe = fileURLToPath(new URL('./agent-probe.ts', import.meta.url))
const root = fileURLToPath(new URL('../..', import.meta.url))
const printRss = 'process.stdout.write(JSON.stringify(process.memoryUsage().rss))'
const importKafka = "await import('@platformatic/kafka');"

/**
 * Measures a real Sampler on this machine in a process of its own: the benchmark process also
 * holds the Kafka and ClickHouse clients and the results of the other parts, which would blur
 * the agent's memory figures. Three otherwise empty Node processes (bare, with tsx's loader,
 * with only the Kafka client imported) give the floors that RSS is read against.
 */
export async function measureAgent (samples = 300, warmup = 20): Promise<AgentCost> {
  const result = JSON.parse(await runNode(['--expose-gc', '--import', 'tsx', probe,
    String(samples), String(warmup)])) as AgentProbeResult
  const bare = Number(await runNode(['-e', printRss]))
  const tsx = Number(await runNode(['--import', 'tsx', '-e', printRss]))
  const kafka = Number(await runNode(['--input-type=module', '-e', importKafka + printRss]))
  return { ...result, bareNodeRssBytes: bare, tsxNodeRssBytes: tsx, kafkaNodeRssBytes: kafka }
}

/** Runs node with `args` and resolves with the last line it printed on stdout. */
function runNode (args: string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, {
      cwd: root,
      timeout: timeoutMs,
      // A warning such as a failing collector goes to stderr, away from the JSON on stdout.
      env: { ...process.env, VITALS_LOG_LEVEL: process.env.VITALS_LOG_LEVEL ?? 'warn' }
    }, (error, stdout, stderr) => {
      if (stderr.trim() !== '') process.stderr.write(stderr)
      const last = stdout.trim().split('\n').at(-1) ?? ''
      if (error !== null) reject(new Error(`node ${args.at(-1)} failed: ${error.message}`))
      else if (last === '') reject(new Error(`node ${args.join(' ')} printed nothing`))
      else resolve(last)
    })
  })
}
