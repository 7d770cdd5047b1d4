/**
 * Runs in a child process of the benchmark (`agent-cost.ts` starts it), so that its CPU and
 * memory are those of a process doing nothing but sampling, not of the benchmark around it.
 * Prints one JSON object (AgentProbeResult) on stdout.
 *
 * Usage: node --expose-gc --import tsx scripts/bench/agent-probe.ts SAMPLES WARMUP
 */
import { gzipSync } from 'node:zlib'
import { Sampler } from '../../src/agent/sampler.ts'
import { encodeEvent, type SampleEvent } from '../../src/event/index.ts'
import { VITALS_VERSION } from '../../src/version.ts'
import { cpuMs, median, percentile } from './stats.ts'

export interface AgentProbeResult {
  samples: number
  warmup: number
  cpuMsPerSample: number
  wallMsMedian: number
  wallMsP99: number
  encodeMsPerEvent: number
  gzipMsPerEvent: number
  eventBytes: number
  gzipBytes: number
  rssBytes: number
  heapUsedBytes: number
  /** heap still in use after a full GC, minus the same before the measured samples */
  heapRetainedGrowthBytes: number
  failedFamilies: string[]
}

// The real agent also loads the Kafka client; loaded here (not connected) so RSS counts its code.
await import('../../src/agent/agent.ts')

const samples = Number(process.argv[2] ?? 300)
const warmup = Number(process.argv[3] ?? 20)
const encodeRounds = 1000
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {})

const sampler = new Sampler({ intervalMs: 10_000, agentVersion: VITALS_VERSION })
await sampler.prime()

// The first samples run while V8 is still compiling the collectors; a long-running agent does not.
let last: SampleEvent | undefined
for (let i = 0; i < warmup; i++) last = await sampler.sample(Date.now())

gc()
const heapBefore = process.memoryUsage().heapUsed
const walls: number[] = []
const cpuStart = process.cpuUsage()
for (let i = 0; i < samples; i++) {
  const started = performance.now()
  last = await sampler.sample(Date.now())
  walls.push(performance.now() - started)
}
const cpuSampling = cpuMs(process.cpuUsage(cpuStart))
const memory = process.memoryUsage()
gc()
const heapRetained = process.memoryUsage().heapUsed

if (last === undefined) throw new Error('no sample was taken')
const event = last
const encoded = encodeEvent(event)
let encodeStart = process.cpuUsage()
for (let i = 0; i < encodeRounds; i++) encodeEvent(event)
const encodeMs = cpuMs(process.cpuUsage(encodeStart)) / encodeRounds

// The agent's producer gzips by default; a batch of one event costs about this much more.
let zipped = gzipSync(encoded)
encodeStart = process.cpuUsage()
for (let i = 0; i < encodeRounds; i++) zipped = gzipSync(encoded)
const gzipMs = cpuMs(process.cpuUsage(encodeStart)) / encodeRounds

const result: AgentProbeResult = {
  samples,
  warmup,
  cpuMsPerSample: cpuSampling / samples,
  wallMsMedian: median(walls),
  wallMsP99: percentile(walls, 99),
  encodeMsPerEvent: encodeMs,
  gzipMsPerEvent: gzipMs,
  eventBytes: encoded.length,
  gzipBytes: zipped.length,
  rssBytes: memory.rss,
  heapUsedBytes: memory.heapUsed,
  heapRetainedGrowthBytes: heapRetained - heapBefore,
  failedFamilies: event.failures.map((failure) => failure.family)
}
process.stdout.write(`${JSON.stringify(result)}\n`)
