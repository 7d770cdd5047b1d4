/**
 * The local stack: one Kafka broker and one ClickHouse server that Vitals starts, reuses and
 * stops itself, all files in one folder (`home`), every port on 127.0.0.1.
 */
import { resolve } from 'node:path'
import { ErrorCodes, UserError } from '../errors.ts'
import type { Logger } from '../log.ts'
import {
  CLICKHOUSE_DATABASE, CLICKHOUSE_USER, clickhouseAnswers, clickhouseLayout, clickhouseQuery,
  newPassword, startClickhouse
} from './clickhouse.ts'
import { ensureKafkaJars, kafkaAnswers, kafkaLayout, startKafka } from './kafka.ts'
import { freePort, isPortFree, LOOPBACK } from './ports.ts'
import { isAlive, stopProcess, waitForReady } from './process.ts'
import { progress, seconds, type Progress } from './progress.ts'
import {
  hasSecurity, prepareClickhouseTls, prepareSecurity, resumeClickhouseTls, resumeSecurity,
  type StackSecurityOptions
} from './security.ts'
import { ensureHome, readState, writeState, type StackPorts, type StackState } from './state.ts'
import { requireJava, requireTool } from './tools.ts'

export { ensureKafkaJars, KAFKA_VERSION, type KafkaJarsOptions } from './kafka.ts'
export { defaultCacheDir, defaultStackHome } from './state.ts'
export type {
  ClickhouseSecureEndpoint, KafkaSecureListener, StackEndpoints, StackPorts, StackState
} from './state.ts'
export type { StackSecurityOptions } from './security.ts'

export interface StackOptions {
  home: string // the stack folder: state, configs, data, logs
  cacheDir?: string // Kafka jar cache, see defaultCacheDir()
  ports?: Partial<StackPorts> // 0 or missing: remembered from the last start, else a free one
  readyTimeoutMs?: number // per server, default 120000
  log?: Logger
  onProgress?: (message: string) => void // human-readable progress lines
  security?: StackSecurityOptions // a SASL/TLS Kafka listener, ClickHouse HTTPS: security.ts
}

export interface StackStatus {
  running: boolean // both servers alive and answering
  state?: StackState // the last start's state, pids 0 once stopped
  kafka: boolean
  clickhouse: boolean
}

const defaults = {
  readyTimeoutMs: 120_000,
  stopTimeoutMs: 45_000, // a clean Kafka shutdown can take ~30 s
  probeTimeoutMs: 3_000
}

/**
 * Starts both servers, or returns the running stack when both answer on the requested ports.
 * A half-dead stack (one server gone or hung) is stopped and started again.
 */
export async function startStack (
  options: StackOptions
): Promise<{ state: StackState, reused: boolean }> {
  const report = progress(options.log, options.onProgress)
  const home = resolve(options.home)
  await ensureHome(home)
  const previous = await readState(home)

  if (previous !== undefined && portsMatch(previous.ports, options.ports) &&
    hasSecurity(previous, options.security)) {
    const status = await probe(previous)
    if (status.kafka && status.clickhouse) {
      report.say('stack already running', { home, pids: previous.pids })
      return { state: previous, reused: true }
    }
  }
  if (previous !== undefined && await stopServers(previous, defaults.stopTimeoutMs, report.log)) {
    report.say('stopped a stack that was not fully answering', { home })
  }

  const java = await requireJava(report)
  const server = await requireTool('clickhouse', report)
  const libs = await ensureKafkaJars({
    cacheDir: options.cacheDir, log: report.log, onProgress: options.onProgress
  })
  const ports = await choosePorts(options.ports ?? {}, previous?.ports)
  const secure =
    await prepareSecurity(home, options.security, ports, options.ports, previous?.ports)
  const https =
    await prepareClickhouseTls(home, options.security, ports, options.ports, previous?.ports)
  const password = previous?.clickhouse.password ?? newPassword()
  const state: StackState = {
    home,
    pids: { kafka: 0, clickhouse: 0 },
    startedAt: new Date().toISOString(),
    ports,
    kafka: { bootstrap: `${LOOPBACK}:${ports.kafka}` },
    clickhouse: {
      url: `http://${LOOPBACK}:${ports.clickhouseHttp}`,
      user: CLICKHOUSE_USER,
      password,
      database: CLICKHOUSE_DATABASE
    },
    kafkaSecure: secure?.endpoint,
    clickhouseSecure: https?.endpoint
  }

  const started = Date.now()
  report.say('starting Kafka and ClickHouse', { home, ports })
  try {
    state.pids.clickhouse = await startClickhouse({ home, ports, password, server, https })
    await writeState(state)
    state.pids.kafka =
      await startKafka({ home, ports, libs, java, progress: report, security: secure })
    // Recorded before waiting, so `stack stop` finds servers whose start was interrupted.
    await writeState(state)
    await waitForBoth(state, options.readyTimeoutMs ?? defaults.readyTimeoutMs, report, started)
    await clickhouseQuery(state.clickhouse,
      `CREATE DATABASE IF NOT EXISTS ${CLICKHOUSE_DATABASE}`)
  } catch (error) {
    await stopServers(state, defaults.stopTimeoutMs, report.log)
    await writeState({ ...state, pids: { kafka: 0, clickhouse: 0 } })
    throw error
  }

  report.say(`stack ready in ${seconds(started)}`, {
    kafka: state.kafka.bootstrap, clickhouse: state.clickhouse.url, pids: state.pids
  })
  return { state, reused: false }
}

/** Stops both servers of the stack in `home`; false when neither was running. */
export async function stopStack (
  home: string, options: { log?: Logger, timeoutMs?: number } = {}
): Promise<boolean> {
  const report = progress(options.log)
  const state = await readState(resolve(home))
  if (state === undefined) return false

  const started = Date.now()
  const stopped = await stopServers(state, options.timeoutMs ?? defaults.stopTimeoutMs, report.log)
  await writeState({ ...state, pids: { kafka: 0, clickhouse: 0 } })
  if (stopped) report.say(`stack stopped in ${seconds(started)}`, { home: state.home })
  return stopped
}

export type StackServer = 'kafka' | 'clickhouse'

export interface ServerOptions {
  cacheDir?: string // Kafka jar cache, see defaultCacheDir()
  readyTimeoutMs?: number // default 120000
  log?: Logger
  onProgress?: (message: string) => void
}

/**
 * Stops one server of the stack in `home` and leaves the other running, as an outage would;
 * `startServer` brings it back on the same ports with the same data. Without `timeoutMs` the
 * server gets the usual time for a clean shutdown; a short one ends in SIGKILL, like a crash.
 * False when that server was not running.
 */
export async function stopServer (
  home: string, server: StackServer, options: { log?: Logger, timeoutMs?: number } = {}
): Promise<boolean> {
  const report = progress(options.log)
  const state = await readState(resolve(home))
  if (state === undefined) return false

  const started = Date.now()
  const stopped = await stopProcess(state.pids[server], {
    name: server,
    marker: markers(state.home)[server],
    timeoutMs: options.timeoutMs ?? defaults.stopTimeoutMs,
    log: report.log
  })
  await writeState({ ...state, pids: { ...state.pids, [server]: 0 } })
  if (stopped) report.say(`${server} stopped in ${seconds(started)}`, { home: state.home })
  return stopped
}

/**
 * Starts one server of a stack that has been started before, on the ports and with the
 * password, data and secure ports (Kafka listener, ClickHouse HTTPS) of that start, and waits
 * until it answers. A server already answering is left alone. Returns the state with the new
 * pid.
 */
export async function startServer (
  home: string, server: StackServer, options: ServerOptions = {}
): Promise<StackState> {
  const report = progress(options.log, options.onProgress)
  const state = await readState(resolve(home))
  if (state === undefined) {
    throw new UserError(ErrorCodes.STACK_PROCESS,
      `no stack in ${home}: start the whole stack first`)
  }
  const marker = markers(state.home)[server]
  const layout = server === 'kafka' ? kafkaLayout(state.home) : clickhouseLayout(state.home)
  const answers = server === 'kafka'
    ? () => kafkaAnswers(state.ports.kafka, defaults.probeTimeoutMs)
    : () => clickhouseAnswers(state.clickhouse, defaults.probeTimeoutMs)
  if (isAlive(state.pids[server], marker) && await answers()) return state

  const started = Date.now()
  let pid: number
  let next: StackState = state
  if (server === 'kafka') {
    const java = await requireJava(report)
    const libs = await ensureKafkaJars({
      cacheDir: options.cacheDir, log: report.log, onProgress: options.onProgress
    })
    // The secure listener, if the stack has one, comes back on its port with its user.
    // The secure listener, if the stack has one, comes back too (elsewhere if its port was taken).
    const secure = await resumeSecurity(state)
    const ports = secure === undefined ? state.ports : { ...state.ports, kafkaSecure: secure.port }
    pid = await startKafka({ home: state.home, ports, libs, java, progress: report, security: secure })
    next = { ...state, ports, kafkaSecure: secure?.endpoint ?? state.kafkaSecure }
  } else {
    const tool = await requireTool('clickhouse', report)
    // The HTTPS port, if the stack has one, comes back too (elsewhere if its port was taken).
    const https = await resumeClickhouseTls(state)
    const ports = { ...state.ports, clickhouseHttps: https?.port }
    pid = await startClickhouse({
      home: state.home, ports, password: state.clickhouse.password, server: tool, https
    })
    next = { ...state, ports, clickhouseSecure: https?.endpoint }
  }
  // Recorded before waiting, so `stack stop` finds a server whose start was interrupted.
  next = { ...next, pids: { ...state.pids, [server]: pid } }
  await writeState(next)

  const logFiles = 'errorLogFile' in layout
    ? [layout.errorLogFile, layout.outputFile]
    : [layout.logFile, layout.outputFile]
  await waitForReady({
    name: server,
    pid,
    marker,
    timeoutMs: options.readyTimeoutMs ?? defaults.readyTimeoutMs,
    logFiles,
    probe: answers
  })
  report.say(`${server} ready in ${seconds(started)}`, { home: state.home, pid })
  return next
}

export async function stackStatus (home: string): Promise<StackStatus> {
  const state = await readState(resolve(home))
  if (state === undefined) return { running: false, kafka: false, clickhouse: false }
  const status = await probe(state)
  return { running: status.kafka && status.clickhouse, state, ...status }
}

function markers (home: string): { kafka: string, clickhouse: string } {
  return {
    kafka: kafkaLayout(home).configFile,
    clickhouse: `--config-file=${clickhouseLayout(home).configFile}`
  }
}

async function probe (state: StackState): Promise<{ kafka: boolean, clickhouse: boolean }> {
  const marker = markers(state.home)
  const [kafka, clickhouse] = await Promise.all([
    isAlive(state.pids.kafka, marker.kafka) &&
      kafkaAnswers(state.ports.kafka, defaults.probeTimeoutMs),
    isAlive(state.pids.clickhouse, marker.clickhouse) &&
      clickhouseAnswers(state.clickhouse, defaults.probeTimeoutMs)
  ])
  return { kafka, clickhouse }
}

async function stopServers (state: StackState, timeoutMs: number, log: Logger): Promise<boolean> {
  const marker = markers(state.home)
  const stopped = await Promise.all([
    stopProcess(state.pids.kafka, { name: 'kafka', marker: marker.kafka, timeoutMs, log }),
    stopProcess(state.pids.clickhouse,
      { name: 'clickhouse', marker: marker.clickhouse, timeoutMs, log })
  ])
  return stopped.some(Boolean)
}

async function waitForBoth (
  state: StackState, timeoutMs: number, report: Progress, started: number
): Promise<void> {
  const kafka = kafkaLayout(state.home)
  const clickhouse = clickhouseLayout(state.home)
  const marker = markers(state.home)
  // When one server fails there is no point waiting out the other's timeout.
  const failed = new AbortController()
  const watch = (name: string, wait: Promise<void>): Promise<void> => wait.then(
    () => report.say(`${name} ready in ${seconds(started)}`),
    (error: unknown) => {
      failed.abort(error)
      throw error
    })

  const results = await Promise.allSettled([
    watch('ClickHouse', waitForReady({
      name: 'ClickHouse',
      pid: state.pids.clickhouse,
      marker: marker.clickhouse,
      timeoutMs,
      logFiles: [clickhouse.errorLogFile, clickhouse.outputFile],
      probe: () => clickhouseAnswers(state.clickhouse, defaults.probeTimeoutMs),
      signal: failed.signal
    })),
    watch('Kafka', waitForReady({
      name: 'Kafka',
      pid: state.pids.kafka,
      marker: marker.kafka,
      timeoutMs,
      logFiles: [kafka.logFile, kafka.outputFile],
      probe: () => kafkaAnswers(state.ports.kafka, defaults.probeTimeoutMs),
      signal: failed.signal
    }))
  ])
  if (failed.signal.aborted) throw failed.signal.reason
  for (const result of results) if (result.status === 'rejected') throw result.reason
}

function portsMatch (current: StackPorts, wanted: Partial<StackPorts> = {}): boolean {
  return Object.entries(wanted).every(([key, port]) =>
    !port || current[key as keyof StackPorts] === port)
}

/**
 * Explicit ports must be free. Otherwise the last start's ports are kept, so clients configured
 * against the stack keep working, unless something else has taken one meanwhile.
 */
async function choosePorts (
  wanted: Partial<StackPorts>, remembered?: StackPorts
): Promise<StackPorts> {
  const keys = ['kafka', 'kafkaController', 'clickhouseHttp', 'clickhouseTcp'] as const
  const chosen: Partial<StackPorts> = {}
  const taken = new Set<number>()

  for (const key of keys) {
    const explicit = wanted[key]
    if (explicit) {
      if (taken.has(explicit) || !await isPortFree(explicit)) {
        throw new UserError(ErrorCodes.STACK_PROCESS,
          `port ${explicit} asked for ${key} is already in use`)
      }
      chosen[key] = explicit
    } else if (remembered?.[key] && !taken.has(remembered[key]) &&
      !Object.values(wanted).includes(remembered[key]) && await isPortFree(remembered[key])) {
      chosen[key] = remembered[key]
    } else {
      let port = await freePort()
      while (taken.has(port) || Object.values(wanted).includes(port)) port = await freePort()
      chosen[key] = port
    }
    taken.add(chosen[key] as number)
  }
  return chosen as StackPorts
}
