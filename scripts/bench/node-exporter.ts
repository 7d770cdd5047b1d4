import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { constants } from 'node:fs'
import { access } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort, LOOPBACK } from '../../src/stack/ports.ts'
import { clockTicksPerSecond, cpuTicks, rssBytes } from './proc.ts'
import { median } from './stats.ts'

export const NODE_EXPORTER = '/usr/bin/prometheus-node-exporter'

/** The families the agent collects, and nothing else, so both sides do comparable work. */
const collectors = ['cpu', 'meminfo', 'filesystem', 'netdev', 'stat', 'loadavg', 'time']

export type NodeExporterCost =
  | { skipped: string }
  | {
    version: string
    scrapes: number
    cpuMsPerScrape: number
    wallMsMedian: number
    rssBytes: number
    /** lines of the last scrape that are samples, not comments */
    series: number
    bytesPerScrape: number
    clockTicksPerSecond: number
  }

/**
 * Starts node_exporter on a free loopback port, scrapes it `scrapes` times back to back, and
 * reads what the scrapes cost it from /proc: the CPU is node_exporter's own, not the scraper's.
 * Skipped, not failed, when node_exporter is not installed.
 */
export async function measureNodeExporter (scrapes = 200, warmup = 5): Promise<NodeExporterCost> {
  if (!await access(NODE_EXPORTER, constants.X_OK).then(() => true, () => false)) {
    return { skipped: `${NODE_EXPORTER} is not installed (Debian: prometheus-node-exporter)` }
  }
  const version = (await output(NODE_EXPORTER, ['--version'])).split('\n')[0]?.trim() ?? '?'
  const ticks = await clockTicksPerSecond()
  const port = await freePort()
  const url = `http://${LOOPBACK}:${port}/metrics`

  const child = spawn(NODE_EXPORTER, [
    '--collector.disable-defaults',
    ...collectors.map((name) => `--collector.${name}`),
    // Its own Go runtime and HTTP metrics are left out: the agent reports nothing about itself.
    '--web.disable-exporter-metrics',
    `--web.listen-address=${LOOPBACK}:${port}`
  ], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4000) })

  try {
    const pid = child.pid
    if (pid === undefined) throw new Error('node_exporter did not start')
    await waitUntilAnswering(url, child, () => stderr)

    let body = ''
    for (let i = 0; i < warmup; i++) body = await scrape(url)
    const before = await cpuTicks(pid)
    const walls: number[] = []
    for (let i = 0; i < scrapes; i++) {
      const started = performance.now()
      body = await scrape(url)
      walls.push(performance.now() - started)
    }
    const used = (await cpuTicks(pid)) - before

    return {
      version,
      scrapes,
      cpuMsPerScrape: used * 1000 / ticks / scrapes,
      wallMsMedian: median(walls),
      rssBytes: await rssBytes(pid),
      series: body.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length,
      bytesPerScrape: Buffer.byteLength(body),
      clockTicksPerSecond: ticks
    }
  } finally {
    await stop(child)
  }
}

async function scrape (url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) })
  if (!response.ok) throw new Error(`node_exporter answered ${response.status}`)
  return await response.text()
}

async function waitUntilAnswering (url: string, child: ChildProcess, stderr: () => string,
  timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`node_exporter exited with ${child.exitCode}: ${stderr().slice(-500)}`)
    }
    if (await scrape(url).then(() => true, () => false)) return
    await sleep(50)
  }
  throw new Error(`node_exporter did not answer on ${url} within ${timeoutMs} ms`)
}

/** SIGTERM, then SIGKILL if it is still there after 5 s; only this child, by its pid. */
async function stop (child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
  await exited
  clearTimeout(timer)
}

function output (command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 10_000 }, (error, stdout, stderr) => {
      if (error !== null) reject(error)
      // node_exporter 1.5 prints its version on stderr.
      else resolve(stdout.trim() === '' ? stderr : stdout)
    })
  })
}
