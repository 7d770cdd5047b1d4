import { setTimeout as sleep } from 'node:timers/promises'
import {
  EVENT_VERSION, MetricFamilies,
  type FamilyFailure, type FamilyValues, type HostIdentity, type MetricFamily, type SampleEvent
} from '../event/schema.ts'
import { ConfigError } from '../errors.ts'
import { componentLogger, type Logger } from '../log.ts'
import {
  createCollectors, createFsReader, createOsCollectors, osBootId, osHostIdentity, readBootId,
  readHostIdentity, type Collectors, type MonotonicClock, type OsReader
} from './collectors/index.ts'

export interface SamplerOptions {
  /** where /proc is read from; the real file system by default */
  reader?: OsReader
  intervalMs: number
  agentVersion: string
  tags?: Record<string, string>
  /** replaces the machine id as the host's id */
  hostId?: string
  /** how long a collector may run before its family is reported failed; intervalMs / 2 */
  collectTimeoutMs?: number
  /** replace some of the collectors made from `reader` */
  collectors?: Partial<Collectors>
  /** monotonic ms, for the network rates */
  clock?: MonotonicClock
  /** wall clock, Unix ms, for agentStartedAt */
  now?: () => number
  logger?: Logger
}

export interface SamplerIdentity {
  host: HostIdentity
  bootId: string
}

const maxTags = 64

/**
 * Turns the collectors' readings into events. Families are collected concurrently and
 * independently: one that fails or hangs is left out of the event and named in `failures`,
 * while the others are published as usual.
 */
export class Sampler {
  readonly intervalMs: number
  readonly collectTimeoutMs: number
  /** Unix ms at which this sampler was created: tells one agent run from the next */
  readonly agentStartedAt: number
  #collectors: Collectors
  #readIdentity: () => Promise<SamplerIdentity>
  #identity: Promise<SamplerIdentity> | undefined
  #seq = 0
  #running = new Set<MetricFamily>()
  #failing = new Set<MetricFamily>()
  #log: Logger

  constructor (options: SamplerOptions) {
    validateOptions(options)
    this.intervalMs = options.intervalMs
    this.collectTimeoutMs = options.collectTimeoutMs ??
      Math.max(1, Math.floor(options.intervalMs / 2))
    this.agentStartedAt = Math.floor((options.now ?? Date.now)())
    this.#log = options.logger ?? componentLogger('agent')

    const identityOptions = {
      agentVersion: options.agentVersion, tags: options.tags, hostId: options.hostId
    }
    // Without /proc (macOS, Windows) node:os stands in, with less detail.
    const reader = options.reader ?? (process.platform === 'linux' ? createFsReader() : undefined)
    if (reader === undefined) {
      this.#collectors = { ...createOsCollectors(), ...options.collectors }
      this.#readIdentity = async () => ({
        host: osHostIdentity(identityOptions), bootId: osBootId()
      })
    } else {
      this.#collectors = { ...createCollectors(reader, options.clock), ...options.collectors }
      this.#readIdentity = async () => {
        const [host, bootId] = await Promise.all([
          readHostIdentity(reader, identityOptions),
          readBootId(reader)
        ])
        return { host, bootId }
      }
    }
  }

  /** The host identity and boot id, read on first use and kept for the sampler's life. */
  identity (): Promise<SamplerIdentity> {
    if (this.#identity === undefined) {
      this.#identity = this.#readIdentity().then((identity) => {
        this.#log = this.#log.child({ host: identity.host.id })
        return identity
      })
      // A failed read is not kept, so the next call tries again.
      this.#identity.catch(() => { this.#identity = undefined })
    }
    return this.#identity
  }

  /**
   * Reads the identity and every counter once, so that the first sample reports rates over a
   * real interval rather than since boot. Collector failures are left for sample() to report.
   */
  async prime (): Promise<void> {
    await this.identity()
    await Promise.allSettled(MetricFamilies.map((family) => this.#collect(family)))
  }

  /** One event for `timeMs` (Unix ms); rejects only if the host identity cannot be read. */
  async sample (timeMs: number): Promise<SampleEvent> {
    const { host, bootId } = await this.identity()
    const seq = this.#seq++
    const results = await Promise.allSettled(MetricFamilies.map((family) => this.#collect(family)))

    const event = {
      version: EVENT_VERSION,
      host,
      bootId,
      agentStartedAt: this.agentStartedAt,
      seq,
      time: Math.floor(timeMs),
      intervalMs: this.intervalMs
    } as SampleEvent
    const failures: FamilyFailure[] = []
    results.forEach((result, i) => {
      const family = MetricFamilies[i] as MetricFamily
      if (result.status === 'fulfilled') {
        setFamily(event, family, result.value)
        this.#recovered(family)
      } else {
        const error = errorMessage(result.reason)
        failures.push({ family, error })
        this.#failed(family, error)
      }
    })
    event.failures = failures
    return event
  }

  async #collect<F extends MetricFamily> (family: F): Promise<FamilyValues[F]> {
    // A collector still stuck in an earlier call is not started again: calls would pile up
    // behind, say, a hung network mount, and the late one would overwrite the rate state.
    if (this.#running.has(family)) {
      throw new Error(`${family} collector still busy with an earlier sample`)
    }
    this.#running.add(family)
    const collector = this.#collectors[family]
    const run = Promise.resolve().then(() => collector.collect())
    run.then(() => this.#running.delete(family), () => this.#running.delete(family))
    return withTimeout(run, this.collectTimeoutMs,
      `${family} collector timed out after ${this.collectTimeoutMs} ms`)
  }

  // Logged when a family starts or stops failing, not at every sample: the event says the rest.
  #failed (family: MetricFamily, error: string): void {
    if (this.#failing.has(family)) return
    this.#failing.add(family)
    this.#log.warn({ family, error }, 'collector failing')
  }

  #recovered (family: MetricFamily): void {
    if (!this.#failing.delete(family)) return
    this.#log.info({ family }, 'collector recovered')
  }
}

function setFamily<F extends MetricFamily> (
  event: SampleEvent, family: F, value: FamilyValues[F]
): void {
  (event as unknown as Record<F, FamilyValues[F]>)[family] = value
}

function withTimeout<T> (promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

function errorMessage (error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  return (message || 'unknown error').slice(0, 1024)
}

function validateOptions (options: SamplerOptions): void {
  const { intervalMs, collectTimeoutMs, tags = {} } = options
  if (!Number.isInteger(intervalMs) || intervalMs < 1 || intervalMs > 86_400_000) {
    throw new ConfigError('intervalMs',
      `must be a whole number of ms from 1 to 86400000, got ${intervalMs}`)
  }
  if (collectTimeoutMs !== undefined && !(collectTimeoutMs > 0 && collectTimeoutMs < intervalMs)) {
    throw new ConfigError('collectTimeoutMs',
      `must be above 0 and below intervalMs (${intervalMs})`)
  }
  if (typeof options.agentVersion !== 'string' || options.agentVersion.length > 64) {
    throw new ConfigError('agentVersion', 'must be a string of at most 64 characters')
  }
  if (options.hostId !== undefined && (options.hostId === '' || options.hostId.length > 128)) {
    throw new ConfigError('hostId', 'must be 1 to 128 characters')
  }
  const entries = Object.entries(tags)
  if (entries.length > maxTags) throw new ConfigError('tags', `at most ${maxTags} tags`)
  for (const [key, value] of entries) {
    if (key.length > 128) {
      throw new ConfigError('tags', `tag name longer than 128 characters: ${key.slice(0, 40)}…`)
    }
    if (typeof value !== 'string' || value.length > 1024) {
      throw new ConfigError('tags', `tag ${key} must be a string of at most 1024 characters`)
    }
  }
}

/** The next multiple of intervalMs after nowMs: samples of every host land on the same times. */
export function nextTick (nowMs: number, intervalMs: number): number {
  return (Math.floor(nowMs / intervalMs) + 1) * intervalMs
}

export interface RunSamplerOptions {
  intervalMs: number
  signal: AbortSignal
  onSample: (event: SampleEvent) => void | Promise<void>
  /** wall clock, Unix ms */
  now?: () => number
  logger?: Logger
}

/**
 * Samples on every tick aligned to the wall clock until `signal` aborts. A sample and its
 * onSample finish before the next starts; if they ran past one or more ticks, those ticks are
 * skipped, so the event times stay on the grid instead of drifting. Resolves once stopped.
 */
export async function runSampler (sampler: Sampler, options: RunSamplerOptions): Promise<void> {
  const { intervalMs, signal, onSample } = options
  const now = options.now ?? Date.now
  const log = options.logger ?? componentLogger('agent')

  if (signal.aborted) return
  await sampler.prime()
  let tick = nextTick(now(), intervalMs)

  while (!signal.aborted) {
    // Never more than one interval: if the wall clock jumps back, sampling carries on.
    const wait = Math.min(intervalMs, Math.max(0, tick - now()))
    try {
      await sleep(wait, undefined, { signal })
    } catch {
      break
    }

    try {
      await onSample(await sampler.sample(tick))
    } catch (error) {
      log.error({ err: error, time: tick }, 'sample lost')
    }

    const next = nextTick(now(), intervalMs)
    const skipped = Math.round((next - tick) / intervalMs) - 1
    if (skipped > 0) log.warn({ skipped, intervalMs }, 'sampling ran late, ticks skipped')
    tick = next
  }
}
