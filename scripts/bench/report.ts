import { cpus, release, totalmem } from 'node:os'
import { KAFKA_VERSION } from '../../src/stack/index.ts'
import type { AgentCost } from './agent-cost.ts'
import type { NodeExporterCost } from './node-exporter.ts'
import type { PipelineResult } from './pipeline.ts'
import { fixed, kib, mib, whole } from './stats.ts'

/** A part of the benchmark either measured something or says why it could not. */
export type Part<T> = T | { error: string }

export interface BenchResults {
  date: Date
  /** os.loadavg() when the run began: 1, 5 and 15 minutes */
  loadAverage: number[]
  durationMs: number
  agent: Part<AgentCost>
  nodeExporter: Part<NodeExporterCost>
  pipeline: Part<PipelineResult>
}

type Row = [string, string, string]

function failed<T extends object> (part: Part<T>): part is { error: string } {
  return 'error' in part
}

function table (head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map((cell) => cell.replaceAll('|', '\\|'))
    .join(' | ')} |`
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n')
}

function agentRows (agent: Part<AgentCost>): Row[] {
  if (failed(agent)) return [['Agent', 'not measured', agent.error]]
  const failures = agent.failedFamilies.length === 0 ? ''
    : `; failing here: ${agent.failedFamilies.join(', ')}`
  return [
    ['Agent CPU per sample', `${fixed(agent.cpuMsPerSample, 2)} ms`,
      `user + system of the whole agent process over ${agent.samples} samples back to back, ` +
      `after ${agent.warmup} warm-up ones${failures}`],
    ['Agent time per sample', `${fixed(agent.wallMsMedian, 2)} ms median, ` +
      `${fixed(agent.wallMsP99, 2)} ms p99`, 'wall clock, prime() done beforehand'],
    ['Encoding one event (JSON)', `${fixed(agent.encodeMsPerEvent * 1000, 0)} µs CPU`,
      `${whole(agent.eventBytes)} bytes for this machine's sample`],
    ['gzip of one event', `${fixed(agent.gzipMsPerEvent * 1000, 0)} µs CPU`,
      `${whole(agent.gzipBytes)} bytes; the producer's default compression`],
    ['Agent RSS after', mib(agent.rssBytes),
      `bare Node ${mib(agent.bareNodeRssBytes)}, Node with the tsx loader ` +
      `${mib(agent.tsxNodeRssBytes)}; the agent's modules are loaded, Kafka is not connected`],
    ['Agent heap used after', mib(agent.heapUsedBytes), 'before any forced GC'],
    ['Agent heap growth', kib(agent.heapRetainedGrowthBytes),
      `still in use after a full GC, ${agent.samples} samples later than the baseline`]
  ]
}

function nodeExporterRows (exporter: Part<NodeExporterCost>): Row[] {
  if (failed(exporter)) return [['node_exporter', 'not measured', exporter.error]]
  if ('skipped' in exporter) return [['node_exporter', 'skipped', exporter.skipped]]
  return [
    ['node_exporter CPU per scrape', `${fixed(exporter.cpuMsPerScrape, 2)} ms`,
      `utime + stime from /proc over ${exporter.scrapes} scrapes ` +
      `(${exporter.clockTicksPerSecond} ticks/s, so ±${fixed(
        2000 / exporter.clockTicksPerSecond / exporter.scrapes, 2)} ms)`],
    ['node_exporter time per scrape', `${fixed(exporter.wallMsMedian, 2)} ms median`,
      'wall clock, seen by the scraper'],
    ['node_exporter RSS', mib(exporter.rssBytes),
      `${exporter.series} series, ${kib(exporter.bytesPerScrape)} of text per scrape`]
  ]
}

function pipelineRows (pipeline: Part<PipelineResult>): Row[] {
  if (failed(pipeline)) return [['Pipeline', 'not measured', pipeline.error]]
  const { fill, drain, latency, tables } = pipeline
  const seconds = drain.drainMs / 1000
  const rows = Object.values(tables).reduce((sum, n) => sum + n, 0)
  const incomplete = (drain.complete ? '' : ` — INCOMPLETE: only ${whole(drain.stored)} stored`) +
    (rows === fill.rows ? '' : ` — the fill should have made ${whole(fill.rows)} rows`)
  const cpuShare = (ms: number) => `${fixed(ms / 1000, 1)} s`
  const lost = latency.visible === latency.published ? ''
    : ` — ${latency.published - latency.visible} never became visible`
  return [
    ['Publishing the fill', `${whole(fill.events / (fill.ms / 1000))} events/s`,
      `${whole(fill.events)} events (${fill.hosts} simulated hosts × ${fill.samplesPerHost}) ` +
      `in ${fixed(fill.ms / 1000, 1)} s by one Publisher, gzip, acks=all`],
    ['Ingest rate', `${whole(drain.stored / seconds)} events/s, ${whole(rows / seconds)} rows/s`,
      `${whole(drain.stored)} events already in ${pipeline.partitions} partitions, ` +
      `${whole(rows)} rows in 4 tables, in ${fixed(seconds, 1)} s; ` +
      `maxBatchRows ${pipeline.maxBatchRows}${incomplete}`],
    ['CPU while ingesting', `${cpuShare(pipeline.drainCpuMs.ingest)} ingest, ` +
      `${cpuShare(pipeline.drainCpuMs.clickhouse)} ClickHouse, ` +
      `${cpuShare(pipeline.drainCpuMs.kafka)} Kafka`,
      `CPU s over ${fixed(seconds, 1)} s of wall clock on ${cpus().length} cores; ingest ` +
      `${fixed(pipeline.drainCpuMs.ingest * 1000 / drain.stored, 0)} µs per event`],
    ['Ingest start', `${fixed(drain.startupMs / 1000, 1)} s`,
      'startIngest(): schema migration, topic check, joining the consumer group'],
    ['Sample → queryable', `${fixed(latency.medianMs, 0)} ms median, ` +
      `${fixed(latency.p99Ms, 0)} ms p99`,
      `${latency.published} samples ${latency.everyMs} ms apart; range ` +
      `${fixed(latency.minMs, 0)}–${fixed(latency.maxMs, 0)} ms; ClickHouse polled every ` +
      `${latency.pollMs} ms; maxBatchMs ${pipeline.maxBatchMs}${lost}`],
    ['Local stack start / stop', `${fixed(pipeline.stackStartMs / 1000, 1)} s / ` +
      `${fixed(pipeline.stackStopMs / 1000, 1)} s`, 'Kafka and ClickHouse in a temporary folder']
  ]
}

/** The results as one Markdown table; also what the benchmark prints on stdout. */
export function resultsTable (results: BenchResults): string {
  return table(['Measure', 'Result', 'How'], [
    ...agentRows(results.agent),
    ...nodeExporterRows(results.nodeExporter),
    ...pipelineRows(results.pipeline)
  ])
}

export function comparisonTable (results: BenchResults): string {
  const { agent, nodeExporter: exporter } = results
  if (failed(agent) || failed(exporter) || 'skipped' in exporter) {
    const why = failed(agent) ? agent.error
      : failed(exporter) ? exporter.error : (exporter as { skipped: string }).skipped
    return `No comparison in this run: ${why}.`
  }
  const ratio = (a: number, b: number) => `${fixed(a / b, 2)}×`
  const withEncoding = agent.cpuMsPerSample + agent.encodeMsPerEvent + agent.gzipMsPerEvent
  return table(['', 'Vitals agent, one sample', `${exporter.version.split(',')[0]}, one scrape`,
    'agent / node_exporter'], [
    ['CPU', `${fixed(agent.cpuMsPerSample, 2)} ms`, `${fixed(exporter.cpuMsPerScrape, 2)} ms`,
      ratio(agent.cpuMsPerSample, exporter.cpuMsPerScrape)],
    ['CPU with its output encoded', `${fixed(withEncoding, 2)} ms (JSON + gzip)`,
      `${fixed(exporter.cpuMsPerScrape, 2)} ms (text over HTTP)`,
      ratio(withEncoding, exporter.cpuMsPerScrape)],
    ['RSS', mib(agent.rssBytes), mib(exporter.rssBytes), ratio(agent.rssBytes, exporter.rssBytes)],
    ['Output', `${whole(agent.eventBytes)} bytes JSON, ${whole(agent.gzipBytes)} gzipped`,
      `${whole(exporter.bytesPerScrape)} bytes text, ${exporter.series} series`, '']
  ])
}

function machine (results: BenchResults): string {
  const cores = cpus()
  const clickhouse = failed(results.pipeline) ? 'not reached' : results.pipeline.clickhouseVersion
  const [one, five] = results.loadAverage
  return [
    `- CPU: ${cores.length} × ${cores[0]?.model.trim() ?? 'unknown'}`,
    `- Memory: ${fixed(totalmem() / 2 ** 30, 1)} GiB`,
    `- Linux ${release()}, Node ${process.version}`,
    `- Kafka ${KAFKA_VERSION} (one broker), ClickHouse ${clickhouse}, both local`,
    `- Load average when the run began: ${fixed(one ?? Number.NaN)} (1 min), ` +
      `${fixed(five ?? Number.NaN)} (5 min); above 0, other work was sharing the cores`
  ].join('\n')
}

/** Which process used the most CPU while the fill was ingested, as a sentence. */
function busiest (pipeline: PipelineResult): string {
  const seconds = pipeline.drain.drainMs / 1000
  const [name, ms] = Object.entries(pipeline.drainCpuMs).sort((a, b) => b[1] - a[1])[0] ??
    ['nothing', 0]
  const label = name === 'ingest' ? 'the ingest process' : name === 'kafka' ? 'Kafka' : 'ClickHouse'
  return ` In this run ${label} was the busiest while ingesting, at ` +
    `${fixed(ms / 1000 / seconds * 100, 0)}% of one core over the ${fixed(seconds, 1)} s.`
}

/** Joins `text` into one paragraph wrapped at `width`, since interpolated values vary. */
function wrap (text: string, width = 100): string {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else {
      line = line === '' ? word : `${line} ${word}`
    }
  }
  if (line !== '') lines.push(line)
  return lines.join('\n')
}

function reading (results: BenchResults): string {
  const cores = cpus().length
  const { agent, pipeline } = results
  const agentShare = failed(agent) ? ''
    : ` At the default 10 s interval the agent's sampling costs about ` +
      `${fixed(agent.cpuMsPerSample / 10_000 * 100, 3)}% of one core.`
  const batchMs = failed(pipeline) ? 1000 : pipeline.maxBatchMs
  const hottest = failed(pipeline) ? '' : busiest(pipeline)
  return wrap(`The ingest rate is the whole pipeline's on this machine, not the ingest process's
ceiling: the ${cores} cores are shared by the Kafka broker, the ClickHouse server, the ingest,
the benchmark itself and whatever else runs (see the load average above), so the figures move
by tens of percent from run to run.${hottest} Rows/s counts every row written (one raw event,
one host sample, one per filesystem and one per interface), which is what ClickHouse pays
for; events/s is what an operator sizes against. The latency is dominated by batching, not by Kafka
or ClickHouse: a batch is written when it holds maxBatchRows or when its oldest message is
maxBatchMs (${batchMs} ms) old, checked every maxBatchMs / 4, so with a trickle of single samples
the first of a batch waits about that long and later ones less. Lower maxBatchMs buys latency
with more, smaller inserts. The agent's CPU per sample is the user + system time of its whole
process, libuv's file-reading threads and the garbage collector included, and is a mean: a
sample that triggers a GC costs more.${agentShare} Its RSS is mostly Node, the tsx loader and
the code it loads (compare the bare Node figure), not sampling: the heap barely grows from one
sample to the next. node_exporter's CPU per scrape includes serving HTTP and rendering its text
format, so the agent's fair counterpart is the row with JSON and gzip; publishing to Kafka is
not counted on either side. CPU figures from /proc are in clock ticks, so node_exporter's are
exact only to the tolerance given in the table.`)
}

export function markdown (results: BenchResults): string {
  const date = results.date.toISOString().slice(0, 16).replace('T', ' ')
  return `# Benchmarks

Generated by \`npm run bench\` on ${date} UTC;
every run replaces this file. The whole run took ${fixed(results.durationMs / 1000, 0)} s.

## Machine

${machine(results)}

## Results

${resultsTable(results)}

## Beside node_exporter

node_exporter ran with only the collectors that match the agent's families (cpu, meminfo,
filesystem, netdev, stat, loadavg, time) and without its own Go runtime metrics, on a loopback
port, scraped back to back. The agent was measured first, in a process of its own, before the
local stack started, so neither competed with Kafka or ClickHouse.

${comparisonTable(results)}

## How to run

\`\`\`sh
npm run bench
\`\`\`

It needs what the local stack needs (Java, \`clickhouse-server\`, Kafka's jars, fetched once)
and, for the comparison, Debian's \`prometheus-node-exporter\`; without it that row is skipped.
Everything listens on 127.0.0.1, runs in a temporary folder that is removed at the end, and
takes a few minutes at most. The results table is also printed on stdout.

## How to read the numbers

${reading(results)}
`
}
