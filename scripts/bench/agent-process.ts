import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { nextTick } from '../../src/agent/sampler.ts'
import type { Settings } from '../../src/config/index.ts'
import { envFor, vitalsBin } from '../../test/helpers/cli.ts'
import { clockTicksPerSecond, cpuTicks, residentBytes } from './proc.ts'
import type { Say } from './stack.ts'
import { since } from './stats.ts'

export interface AgentProcessCost {
  /** whether bin/vitals.js ran the compiled dist/ (true) or the sources through tsx */
  compiled: boolean
  /** whether this run had to build dist/ first */
  built: boolean
  intervalMs: number
  /** samples taken, at least, before the first reading */
  warmupSamples: number
  /** samples between the two readings */
  samples: number
  cpuMsPerSample: number
  clockTicksPerSecond: number
  rssBytesAfterWarmup: number
  rssBytes: number
  /** VmHWM: the most the process ever had resident */
  peakRssBytes: number
  /** from the agent's "agent stopped" log line */
  sent: number
  undelivered: number
  exitCode: number | null
  stopMs: number
}

const root = fileURLToPath(new URL('../..', import.meta.url))

/**
 * The agent as an operator runs it: `node bin/vitals.js agent`, compiled, sampling this machine
 * once a second and publishing to the bench stack's Kafka, in a topic of its own that the ingest
 * does not read. Its CPU and memory are read from /proc at two points on the sampling grid,
 * half an interval after a tick so no sample is in flight: once after `warmupSamples`, once
 * `samples` ticks later. Then it is stopped with SIGTERM and must exit 0.
 */
export async function measureAgentProcess (settings: Settings, say: Say,
  options: { warmupSamples?: number, samples?: number } = {}): Promise<AgentProcessCost> {
  // About 25 s after start-up V8's memory reducer runs a few full collections to shed the
  // start-up heap (seen with --trace-gc); a reading that spans them counts ~70 ms of one-off
  // work against the samples. 60 samples bring the tick rounding to ±0.17 ms.
  const warmupSamples = options.warmupSamples ?? 35
  const samples = options.samples ?? 60
  const intervalMs = 1000
  const built = await ensureBuilt(say)

  const agentSettings = structuredClone(settings)
  agentSettings.kafka.topic = `${settings.kafka.topic}-agent`
  agentSettings.kafka.deadLetterTopic = `${settings.kafka.topic}-agent-dlq`
  // The benchmark's own VITALS_* (a log level, a config file) must not reach the agent.
  const inherited = Object.fromEntries(Object.entries(process.env)
    .filter(([name]) => !name.startsWith('VITALS_')))
  // A source edited by then makes bin/vitals.js run tsx instead; then the report says so.
  const freshAtSpawn = isBuilt()
  const child = spawn(process.execPath, [vitalsBin, 'agent', '--interval', '1s',
    '--log-level', 'info', '--set', 'agent.hostId=bench-agent'], {
    cwd: root,
    env: { ...inherited, ...envFor(agentSettings) },
    stdio: ['ignore', 'ignore', 'pipe']
  })
  const pid = child.pid
  if (pid === undefined) throw new Error('the agent process did not start')
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  // A spawn error rejects it; the "agent started" wait below then fails with the log's tail.
  exited.catch(() => {})
  const lines: Array<Record<string, unknown>> = []
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
    const complete = stderr.lastIndexOf('\n')
    for (const line of stderr.slice(0, complete + 1).split('\n')) {
      if (line.trim() !== '') lines.push(parseLine(line))
    }
    stderr = stderr.slice(complete + 1)
  })
  const logged = (message: string) => lines.find((line) => line.msg === message)
  const tail = () => lines.slice(-5).map((line) => JSON.stringify(line)).join('\n')

  try {
    const startedAt = await waitFor(() => logged('agent started') !== undefined,
      () => child.exitCode === null, 30_000,
      () => `the agent did not log "agent started": ${tail()}`)
    const compiled = freshAtSpawn && isBuilt()
    say(`agent process ${pid} started (${compiled ? 'compiled dist/' : 'tsx'}), ` +
      `sampling for ${warmupSamples + samples} s`)

    // The first tick after "agent started" is the first sample, or the second if priming the
    // sampler took it past that tick: either way at least `warmupSamples` precede the reading.
    const firstAt = nextTick(startedAt, intervalMs) + warmupSamples * intervalMs + intervalMs / 2
    await sleep(Math.max(0, firstAt - Date.now()))
    const ticksBefore = await cpuTicks(pid)
    const warmedUp = await residentBytes(pid)
    await sleep(Math.max(0, firstAt + samples * intervalMs - Date.now()))
    const ticksAfter = await cpuTicks(pid)
    const end = await residentBytes(pid)

    const stopping = Date.now()
    child.kill('SIGTERM')
    const [code] = await withTimeout(exited, 15_000,
      'the agent did not exit within 15 s of SIGTERM')
    const stopMs = Date.now() - stopping
    const stopped = logged('agent stopped')
    const late = lines.filter((line) => line.msg === 'sampling ran late, ticks skipped' ||
      line.msg === 'sample lost')
    if (late.length > 0) {
      throw new Error(`the agent missed samples, so the count is off: ${JSON.stringify(late[0])}`)
    }
    if (stopped === undefined) throw new Error(`the agent did not log "agent stopped": ${tail()}`)
    const sent = Number(stopped.sent)
    if (!(sent >= warmupSamples + samples)) {
      throw new Error(`the agent sent ${sent} samples, fewer than the ` +
        `${warmupSamples + samples} it should have taken`)
    }
    say(`agent process sent ${sent} samples and exited with ${code} in ${since(stopping)}`)

    const ticks = await clockTicksPerSecond()
    return {
      compiled,
      built,
      intervalMs,
      warmupSamples,
      samples,
      cpuMsPerSample: (ticksAfter - ticksBefore) * 1000 / ticks / samples,
      clockTicksPerSecond: ticks,
      rssBytesAfterWarmup: warmedUp.rss,
      rssBytes: end.rss,
      peakRssBytes: end.peak,
      sent,
      undelivered: Number(stopped.undelivered),
      exitCode: code,
      stopMs
    }
  } finally {
    // Only on a failure above is it still running; the child, by its pid, and nothing else.
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exited
    }
  }
}

function parseLine (line: string): Record<string, unknown> {
  try {
    return JSON.parse(line) as Record<string, unknown>
  } catch {
    return { msg: line }
  }
}

/** Polls `ready` every 50 ms; resolves with the time it became true. */
async function waitFor (ready: () => boolean, running: () => boolean, timeoutMs: number,
  failure: () => string): Promise<number> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline && running()) {
    if (ready()) return Date.now()
    await sleep(50)
  }
  throw new Error(failure())
}

async function withTimeout<T> (promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** bin/vitals.js's rule: dist/ is used when its entry is at least as new as every source. */
function isBuilt (): boolean {
  const newest = (dir: string): number => readdirSync(dir, { withFileTypes: true })
    .reduce((max, entry) => {
      const path = join(dir, entry.name)
      return Math.max(max, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs)
    }, 0)
  try {
    return statSync(join(root, 'dist/cli/main.js')).mtimeMs >= newest(join(root, 'src'))
  } catch {
    return false
  }
}

/**
 * Runs `npm run build` when dist/ is older than src/, as `npm install` would have. A type error
 * does not stop tsc from emitting, so only a dist/ still stale afterwards is a failure.
 */
async function ensureBuilt (say: Say): Promise<boolean> {
  if (isBuilt()) return false
  const started = Date.now()
  say('dist/ is older than src/: npm run build')
  const failure = await new Promise<string | undefined>((resolve) => {
    execFile('npm', ['run', 'build'], { cwd: root, timeout: 180_000 }, (error, stdout) => {
      resolve(error === null ? undefined : stdout.trim().split('\n').slice(-3).join(' / '))
    })
  })
  if (failure !== undefined) say(`npm run build reported errors (it still emits): ${failure}`)
  if (!isBuilt()) throw new Error('dist/ is still older than src/ after npm run build')
  say(`built in ${since(started)}`)
  return true
}
