import { cpus, release, totalmem } from 'node:os'
import { KAFKA_VERSION } from '../../src/stack/index.ts'
import type { AgentCost } from './agent-cost.ts'
import type { AgentProcessCost } from './agent-process.ts'
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

/** The real agent process, measured inside the pipeline part; an error when it was not. */
export function agentProcessOf (results: BenchResults): Part<AgentProcessCost> {
  return failed(results.pipeline)
    ? { error: `no local stack: ${results.pipeline.error}` }
    : results.pipeline.agentProcess
}

/** ± this many ms per sample: utime and stime are each read in whole clock ticks, twice. */
function tickTolerance (agent: AgentProcessCost): number {
  return 2000 / agent.clockTicksPerSecond / agent.samples
}

function runtime (agent: AgentProcessCost): string {
  return agent.compiled ? `compiled dist/${agent.built ? ', built by this run' : ''}`
    : 'sources through tsx: a source changed while it started'
}

function agentProcessRows (agent: Part<AgentProcessCost>): Row[] {
  if (failed(agent)) return [['Agent process', 'not measured', agent.error]]
  return [
    ['Agent process CPU per sample', `${fixed(agent.cpuMsPerSample, 2)} ms`,
      `\`node bin/vitals.js agent --interval 1s\` (${runtime(agent)}) publishing to the ` +
      `local Kafka, gzip, acks=all: utime + stime from /proc over ${agent.samples} samples ` +
      `after at least ${agent.warmupSamples}, ±${fixed(tickTolerance(agent), 2)} ms ` +
      `(${agent.clockTicksPerSecond} ticks/s); sampling, encoding, compressing, producing and ` +
      'whatever the process does between samples'],
    ['Agent process RSS', mib(agent.rssBytes),
      `VmRSS at the end; ${mib(agent.rssBytesAfterWarmup)} after the warm-up, ` +
      `peak (VmHWM) ${mib(agent.peakRssBytes)}`],
    ['Agent process stop', `exit ${agent.exitCode ?? 'by signal'} in ${whole(agent.stopMs)} ms`,
      `SIGTERM after ${agent.sent} samples sent, ${agent.undelivered} undelivered`]
  ]
}

function agentRows (agent: Part<AgentCost>): Row[] {
  if (failed(agent)) return [['Sampling', 'not measured', agent.error]]
  const failures = agent.failedFamilies.length === 0 ? ''
    : `; failing here: ${agent.failedFamilies.join(', ')}`
  return [
    ['Sampling only, CPU per sample', `${fixed(agent.cpuMsPerSample, 2)} ms`,
      'user + system of a probe process that only samples (sources through tsx, the Kafka ' +
      `client loaded but not connected), over ${agent.samples} samples back to back, ` +
      `after ${agent.warmup} warm-up ones${failures}`],
    ['Sampling only, time per sample', `${fixed(agent.wallMsMedian, 2)} ms median, ` +
      `${fixed(agent.wallMsP99, 2)} ms p99`, 'wall clock, prime() done beforehand'],
    ['Encoding one event (JSON)', `${fixed(agent.encodeMsPerEvent * 1000, 0)} µs CPU`,
      `${whole(agent.eventBytes)} bytes for this machine's sample`],
    ['gzip of one event', `${fixed(agent.gzipMsPerEvent * 1000, 0)} µs CPU`,
      `${whole(agent.gzipBytes)} bytes; the producer's default compression`],
    ['Probe RSS after sampling', mib(agent.rssBytes),
      `bare Node ${mib(agent.bareNodeRssBytes)}, Node with the tsx loader ` +
      `${mib(agent.tsxNodeRssBytes)}, Node with only @platformatic/kafka imported ` +
      mib(agent.kafkaNodeRssBytes)],
    ['Probe heap used after', mib(agent.heapUsedBytes), 'before any forced GC'],
    ['Probe heap growth', kib(agent.heapRetainedGrowthBytes),
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
    ...agentProcessRows(agentProcessOf(results)),
    ...agentRows(results.agent),
    ...nodeExporterRows(results.nodeExporter),
    ...pipelineRows(results.pipeline)
  ])
}

export function comparisonTable (results: BenchResults): string {
  const { agent, nodeExporter: exporter } = results
  const real = agentProcessOf(results)
  if (failed(exporter) || 'skipped' in exporter || (failed(agent) && failed(real))) {
    const why = failed(exporter) ? exporter.error
      : 'skipped' in exporter ? exporter.skipped : (agent as { error: string }).error
    return `No comparison in this run: ${why}.`
  }
  const ratio = (a: number, b: number) => `${fixed(a / b, 2)}×`
  const scrape = `${fixed(exporter.cpuMsPerScrape, 2)} ms`
  const rows: string[][] = []
  if (failed(real)) {
    rows.push(['CPU, whole agent process', `not measured: ${real.error}`, scrape, ''])
  } else {
    rows.push(['CPU, whole agent process',
      `${fixed(real.cpuMsPerSample, 2)} ms (sample, JSON, gzip, produce to Kafka)`,
      `${scrape} (scrape, text over HTTP)`, ratio(real.cpuMsPerSample, exporter.cpuMsPerScrape)])
  }
  if (!failed(agent)) {
    rows.push(['CPU, sampling only', `${fixed(agent.cpuMsPerSample, 2)} ms (probe process)`,
      scrape, ratio(agent.cpuMsPerSample, exporter.cpuMsPerScrape)])
  }
  if (failed(real)) {
    rows.push(['RSS', 'agent process not measured', mib(exporter.rssBytes), ''])
  } else {
    rows.push(['RSS', `${mib(real.rssBytes)} (agent process, ` +
      `${real.compiled ? 'compiled' : 'through tsx'})`, mib(exporter.rssBytes),
    ratio(real.rssBytes, exporter.rssBytes)])
  }
  if (!failed(agent)) {
    rows.push(['Output', `${whole(agent.eventBytes)} bytes JSON, ${whole(agent.gzipBytes)} gzipped`,
      `${whole(exporter.bytesPerScrape)} bytes text, ${exporter.series} series`, ''])
  }
  return table(['', 'Vitals agent, one sample', `${exporter.version.split(',')[0]}, one scrape`,
    'agent / node_exporter'], rows)
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

/** What the agent's CPU and memory consist of, as sentences; empty parts when not measured. */
function agentReading (agent: Part<AgentCost>, real: Part<AgentProcessCost>): string {
  const cpu = failed(real) ? ''
    : ` The agent process's CPU per sample is the user + system time of the whole compiled
      agent, libuv's threads and the garbage collector included, from reading /proc to Kafka
      acknowledging the produce request, plus whatever it does between samples, divided over the
      ${real.samples} samples between two readings; /proc counts in clock ticks, so it is exact
      only to ±${fixed(tickTolerance(real), 2)} ms, and a longer run would narrow that. At the
      default 10 s interval it comes to about ${fixed(real.cpuMsPerSample / 10_000 * 100, 3)}% of
      one core, if what the process does between samples stays as small. It is a mean: a sample
      that triggers a GC costs more.`
  const sampling = failed(agent) ? ''
    : ` The sampling-only figure, from a probe process that does nothing else
      (${fixed(agent.cpuMsPerSample, 2)} ms), is roughly the collectors' share of it.`
  let memory = ''
  if (!failed(real) && !failed(agent)) {
    const library = agent.kafkaNodeRssBytes - agent.bareNodeRssBytes
    const rest = real.rssBytes - agent.kafkaNodeRssBytes
    memory = ` The agent's resident memory is mostly not sampling. Bare Node holds
      ${mib(agent.bareNodeRssBytes)}; importing the Kafka client library (@platformatic/kafka)
      alone, in an otherwise empty Node, adds ${mib(library)}, ${library > rest ? 'more than' :
      'about as much as'} everything else the agent adds (${mib(rest)}: its own code, pino, the
      open connection to Kafka and its heap), and the heap barely grows from one sample to the
      next. The probe's RSS (${mib(agent.rssBytes)}) is higher still because it runs the sources
      through tsx's loader, as bin/vitals.js does only when dist/ is older than src/.`
  }
  return cpu + sampling + memory
}

function reading (results: BenchResults): string {
  const cores = cpus().length
  const { agent, pipeline } = results
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
with more, smaller inserts.${agentReading(agent, agentProcessOf(results))} node_exporter's CPU
per scrape includes serving HTTP and rendering its text format, and is measured back to back, so
nothing of its idle time is in it; the agent's includes JSON, gzip and publishing to Kafka. CPU
figures from /proc are in clock ticks, so they are exact only to the tolerance given in the
table.`)
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
port, scraped back to back. The agent's figures are those of the real agent process
(\`node bin/vitals.js agent\`), run against the local stack before anything else used it,
sampling once a second and publishing every sample to Kafka. The sampling-only line comes
from a probe process measured first, before the local stack started, so neither it nor
node_exporter competed with Kafka or ClickHouse.

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
