/**
 * The benchmark command (`npm run bench`). Measures, in this order so that the cheap in-process
 * measurements are not disturbed by the servers: sampling's cost per sample in a probe process,
 * node_exporter's cost per scrape beside it, then, against a local stack of its own, the real
 * agent process publishing to Kafka, ingest rate and sample → queryable latency. Writes
 * docs/benchmarks.md and prints the results table on stdout; progress goes to stderr. A part
 * that fails is reported in the file and makes the exit code 1.
 */
import { writeFile } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { flushLogs, setLogLevel } from '../src/log.ts'
import { measureAgent } from './bench/agent-cost.ts'
import { measureNodeExporter } from './bench/node-exporter.ts'
import { measurePipeline } from './bench/pipeline.ts'
import {
  agentProcessOf, comparisonTable, markdown, resultsTable, type BenchResults, type Part
} from './bench/report.ts'
import { fixed, since } from './bench/stats.ts'

const output = fileURLToPath(new URL('../docs/benchmarks.md', import.meta.url))
const began = Date.now()
const loadAverage = loadavg()
const say = (line: string): void => { process.stderr.write(`bench: ${line}\n`) }

// The pipeline's lifecycle logs (topic created, ingest started) would bury the progress lines.
if (process.env.VITALS_LOG_LEVEL === undefined) setLogLevel('warn')

async function part<T> (name: string, run: () => Promise<T>): Promise<Part<T>> {
  const started = Date.now()
  say(`${name}...`)
  try {
    const result = await run()
    say(`${name} done in ${since(started)}`)
    return result
  } catch (error) {
    say(`${name} failed: ${(error as Error).stack ?? String(error)}`)
    return { error: (error as Error).message.split('\n')[0] ?? String(error) }
  }
}

const agent = await part('agent cost per sample', () => measureAgent(300, 20))
const nodeExporter = await part('node_exporter beside it', () => measureNodeExporter(200, 5))
const pipeline = await part('agent process, ingest rate and latency', () => measurePipeline({
  hosts: 200, samplesPerHost: 100, latencySamples: 100
}, say))

const results: BenchResults = {
  date: new Date(began), loadAverage, durationMs: Date.now() - began, agent, nodeExporter, pipeline
}
await writeFile(output, markdown(results))
process.stdout.write(`${resultsTable(results)}\n\n${comparisonTable(results)}\n`)
say(`wrote ${output}; the whole run took ${fixed(results.durationMs / 1000, 0)} s`)

flushLogs()
const failedParts = [agent, nodeExporter, pipeline, agentProcessOf(results)]
  .filter((result) => 'error' in result)
process.exitCode = failedParts.length === 0 ? 0 : 1
// Kafka and ClickHouse clients may keep sockets or timers open after a clean close.
setTimeout(() => process.exit(), 200).unref()
