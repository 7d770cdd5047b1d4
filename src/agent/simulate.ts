import {
  EVENT_VERSION,
  type Cpu, type CpuTimes, type Filesystem, type HostIdentity, type Memory, type NetworkInterface,
  type SampleEvent
} from '../event/schema.ts'

/**
 * A fleet of made-up hosts for load tests and benchmarks. Each host has a stable identity and
 * produces schema-valid events whose numbers move the way real ones do: CPU and memory as
 * bounded random walks, disks filling slowly (and being cleaned up), network counters growing
 * at plausible rates. The same seed and the same sample times give the same events.
 */

export interface FleetOptions {
  /** 1 by default, so a fleet is reproducible even when no seed is given */
  seed?: number
  intervalMs: number
  agentVersion?: string
}

export function createFleet (n: number, options: FleetOptions): SimulatedHost[] {
  if (!Number.isInteger(n) || n < 0) {
    throw new RangeError(`fleet size must be a whole number, got ${n}`)
  }
  const seed = options.seed ?? 1
  return Array.from({ length: n }, (_, i) => new SimulatedHost(i, seed, options))
}

const GiB = 2 ** 30
const coreCounts = [2, 4, 8, 16, 24, 32, 48, 64]
const roles = ['web', 'api', 'db', 'cache', 'worker', 'batch']
const regions = ['eu-west-1', 'us-east-1', 'ap-south-1']
const systems = [
  ['Debian GNU/Linux 12 (bookworm)', '6.1.0-25-amd64'],
  ['Ubuntu 22.04.4 LTS', '5.15.0-119-generic'],
  ['Ubuntu 24.04.1 LTS', '6.8.0-45-generic'],
  ['Rocky Linux 9.4 (Blue Onyx)', '5.14.0-427.13.1.el9_4.x86_64'],
  ['Amazon Linux 2023', '6.1.109-118.189.amzn2023.x86_64']
] as const
const mountPoints = ['/', '/var', '/data', '/home']

interface SimFilesystem {
  mount: string
  device: string
  fsType: string
  sizeBytes: number
  usedBytes: number
  inodesTotal: number
  /** bytes written per second, on average */
  fillRate: number
}

interface SimInterface {
  name: string
  counters: Omit<NetworkInterface, 'name' | 'perSecond'>
  /** bytes per second around which the traffic wanders */
  baseRate: number
  rate: number
}

export class SimulatedHost {
  readonly host: HostIdentity
  readonly bootId: string
  readonly intervalMs: number
  #random: () => number
  #busy: number
  #baseBusy: number
  #coreSpread: number[]
  #load: [number, number, number]
  #memoryTotal: number
  #memoryUsed: number
  #cacheShare: number
  #swapTotal: number
  #swapUsed: number
  #filesystems: SimFilesystem[]
  #interfaces: SimInterface[]
  #seq = 0
  #lastTime: number | undefined
  #bootTime = 0
  #agentStartedAt = 0

  constructor (index: number, seed: number, options: FleetOptions) {
    this.intervalMs = options.intervalMs
    this.#random = mulberry32(mix(seed, index))
    const random = this.#random
    const number = String(index + 1).padStart(4, '0')
    const role = pick(random, roles)
    const region = pick(random, regions)
    const [os, x64Kernel] = pick(random, systems)
    const arch = random() < 0.85 ? 'x64' : 'arm64'
    const kernel = arch === 'x64'
      ? x64Kernel
      : x64Kernel.replace('x86_64', 'aarch64').replace('amd64', 'arm64')
    const cores = pick(random, coreCounts)

    this.host = {
      id: `sim-${number}`,
      name: `${role}-${number}.${region}.sim.internal`,
      os,
      kernel,
      arch,
      cpuCount: cores,
      agentVersion: options.agentVersion ?? '0.1.0',
      tags: { role, region, simulated: 'true' }
    }
    this.bootId = uuid(random)

    this.#baseBusy = 5 + random() * 60
    this.#busy = this.#baseBusy
    // Some cores run hotter than others, and keep doing so.
    this.#coreSpread = Array.from({ length: cores }, () => (random() - 0.5) * 20)
    this.#load = [0, 0, 0].map(() => cores * this.#baseBusy / 100) as [number, number, number]

    this.#memoryTotal = cores * pick(random, [2, 4, 8]) * GiB
    this.#memoryUsed = this.#memoryTotal * (0.2 + random() * 0.5)
    this.#cacheShare = 0.3 + random() * 0.4
    this.#swapTotal = random() < 0.5 ? 0 : pick(random, [2, 4, 8]) * GiB
    this.#swapUsed = this.#swapTotal * random() * 0.1

    const filesystemCount = 1 + Math.floor(random() * 4)
    this.#filesystems = mountPoints.slice(0, filesystemCount).map((mount, i) => {
      const sizeBytes = pick(random, [20, 50, 100, 250, 500, 1000, 2000]) * GiB
      return {
        mount,
        device: `/dev/nvme0n1p${i + 1}`,
        fsType: random() < 0.7 ? 'ext4' : 'xfs',
        sizeBytes,
        usedBytes: sizeBytes * (0.1 + random() * 0.6),
        inodesTotal: Math.floor(sizeBytes / 16_384),
        fillRate: random() * 200_000
      }
    })

    const interfaceCount = 1 + Math.floor(random() * 3)
    this.#interfaces = ['eth0', 'lo', 'eth1'].slice(0, interfaceCount).map((name) => {
      const baseRate = name === 'lo' ? 1_000 + random() * 50_000 : 10_000 + random() * 20_000_000
      return {
        name,
        counters: {
          rxBytes: Math.floor(random() * 1e12),
          txBytes: Math.floor(random() * 1e12),
          rxPackets: Math.floor(random() * 1e9),
          txPackets: Math.floor(random() * 1e9),
          rxErrors: 0,
          txErrors: 0,
          rxDrops: Math.floor(random() * 1000),
          txDrops: 0
        },
        baseRate,
        rate: baseRate
      }
    })
  }

  /** The event this host would publish at `timeMs` (Unix ms); times should only go forward. */
  sample (timeMs: number): SampleEvent {
    const time = Math.floor(timeMs)
    if (this.#lastTime === undefined) {
      // The host has been up for a while, and its agent started a little before.
      const upMs = 3_600_000 + this.#random() * 90 * 86_400_000
      this.#bootTime = Math.floor((time - upMs) / 1000) * 1000
      this.#agentStartedAt = Math.max(this.#bootTime, time - Math.floor(this.#random() * 60_000))
    }
    const first = this.#lastTime === undefined
    const seconds = Math.max(0, first ? this.intervalMs : time - (this.#lastTime as number)) / 1000
    this.#lastTime = time

    return {
      version: EVENT_VERSION,
      host: this.host,
      bootId: this.bootId,
      agentStartedAt: this.#agentStartedAt,
      seq: this.#seq++,
      time,
      intervalMs: this.intervalMs,
      cpu: this.#cpu(seconds),
      memory: this.#memory(),
      filesystems: this.#filesystemsAfter(seconds),
      network: this.#network(seconds, first),
      uptime: { uptimeSeconds: (time - this.#bootTime) / 1000, bootTime: this.#bootTime },
      failures: []
    }
  }

  #cpu (seconds: number): Cpu {
    const random = this.#random
    // Wanders, pulled back towards the host's usual level, with a rare spike.
    this.#busy += (this.#baseBusy - this.#busy) * 0.1 + gaussian(random) * 4
    if (random() < 0.01) this.#busy += 30
    this.#busy = clamp(this.#busy, 1, 98)
    const iowait = random() * 3

    const perCore = this.#coreSpread.map((spread) =>
      cpuShares(clamp(this.#busy + spread + gaussian(random) * 5, 0, 100 - iowait), iowait))
    const total = averageShares(perCore)

    // The kernel's load averages are exponential moving averages over 1, 5 and 15 minutes.
    const runnable = this.#coreSpread.length * this.#busy / 100 * (0.8 + random() * 0.4)
    const load = this.#load.map((value, i) => {
      const decay = Math.exp(-seconds / ([60, 300, 900][i] as number))
      return value * decay + runnable * (1 - decay)
    }) as [number, number, number]
    this.#load = load

    return {
      cores: this.#coreSpread.length,
      total,
      perCore,
      load1: round2(load[0]),
      load5: round2(load[1]),
      load15: round2(load[2])
    }
  }

  #memory (): Memory {
    const random = this.#random
    const total = this.#memoryTotal
    this.#memoryUsed = clamp(this.#memoryUsed + gaussian(random) * total * 0.01,
      total * 0.1, total * 0.95)
    this.#swapUsed = clamp(this.#swapUsed + gaussian(random) * GiB * 0.01, 0, this.#swapTotal)

    const used = Math.round(this.#memoryUsed)
    const available = total - used
    const cached = Math.round(available * this.#cacheShare)
    const buffers = Math.round(available * 0.02)
    // Not all of the cache can be dropped, so free is a little less than available − cache.
    const free = Math.max(0, available - Math.round(cached * 0.9) - buffers)
    const swapUsed = Math.round(this.#swapUsed)

    return {
      totalBytes: total,
      availableBytes: available,
      usedBytes: used,
      freeBytes: free,
      buffersBytes: buffers,
      cachedBytes: cached,
      swapTotalBytes: this.#swapTotal,
      swapFreeBytes: this.#swapTotal - swapUsed,
      swapUsedBytes: swapUsed
    }
  }

  #filesystemsAfter (seconds: number): Filesystem[] {
    const random = this.#random
    return this.#filesystems.map((fs) => {
      fs.usedBytes += fs.fillRate * seconds * (0.5 + random())
      // Somebody rotates the logs before the disk is full, most of the time.
      if (fs.usedBytes > fs.sizeBytes * 0.9 && random() < 0.05) fs.usedBytes = fs.sizeBytes * 0.5
      fs.usedBytes = Math.min(fs.usedBytes, fs.sizeBytes)

      const used = Math.round(fs.usedBytes)
      // ext4 keeps 5% for root, out of reach of ordinary users.
      const available = Math.max(0, Math.round(fs.sizeBytes * 0.95) - used)
      const inodesUsed = Math.min(fs.inodesTotal, Math.round(used / 131_072))
      return {
        mount: fs.mount,
        device: fs.device,
        fsType: fs.fsType,
        sizeBytes: fs.sizeBytes,
        usedBytes: used,
        availableBytes: available,
        inodesTotal: fs.inodesTotal,
        inodesUsed,
        inodesFree: fs.inodesTotal - inodesUsed
      }
    })
  }

  #network (seconds: number, first: boolean): NetworkInterface[] {
    const random = this.#random
    return this.#interfaces.map((nic) => {
      const step = (nic.baseRate - nic.rate) * 0.2 + gaussian(random) * nic.baseRate * 0.2
      nic.rate = clamp(nic.rate + step, 0, nic.baseRate * 5)
      const rx = Math.round(nic.rate * seconds)
      const tx = Math.round(nic.rate * seconds * (0.2 + random() * 0.6))
      const increase = {
        rxBytes: rx,
        txBytes: tx,
        // around 900 bytes a packet on the wire
        rxPackets: Math.round(rx / 900),
        txPackets: Math.round(tx / 900),
        rxErrors: random() < 0.002 ? 1 : 0,
        txErrors: 0,
        rxDrops: random() < 0.02 ? Math.floor(random() * 5) : 0,
        txDrops: 0
      }
      const counters = nic.counters
      for (const key of Object.keys(increase) as Array<keyof typeof increase>) {
        counters[key] += increase[key]
      }

      const perSecond = first || seconds === 0
        ? null
        : Object.fromEntries(Object.entries(increase)
          .map(([key, value]) => [key, value / seconds])) as NetworkInterface['perSecond']
      return { name: nic.name, ...counters, perSecond }
    })
  }
}

function cpuShares (busy: number, iowait: number): CpuTimes {
  // How busy time usually divides on a server; steal only shows on shared virtual machines.
  return {
    user: round2(busy * 0.68),
    nice: round2(busy * 0.02),
    system: round2(busy * 0.22),
    idle: round2(Math.max(0, 100 - busy - iowait)),
    iowait: round2(iowait),
    irq: round2(busy * 0.01),
    softirq: round2(busy * 0.03),
    steal: round2(busy * 0.04),
    guest: 0,
    guestNice: 0,
    busy: round2(busy)
  }
}

function averageShares (cores: CpuTimes[]): CpuTimes {
  const total = { ...cores[0] } as CpuTimes
  const keys = Object.keys(total) as Array<keyof CpuTimes>
  for (const key of keys) {
    let sum = 0
    for (const core of cores) sum += core[key]
    total[key] = clamp(round2(sum / cores.length), 0, 100)
  }
  return total
}

/** A small, fast PRNG with 32 bits of state: plenty for made-up metrics. */
function mulberry32 (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** Spreads (seed, host index) over the state space, so neighbouring hosts are unrelated. */
function mix (seed: number, index: number): number {
  let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35)
  h ^= h >>> 16
  h = Math.imul(h, 0x7feb352d)
  h ^= h >>> 15
  return h >>> 0
}

/** Standard normal, by Box–Muller. */
function gaussian (random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())
}

function pick<T> (random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T
}

function uuid (random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join('')
  // Version 4, variant 1, as random UUIDs are.
  const part = (from: number, to: number) => hex.slice(from, to)
  return `${part(0, 8)}-${part(8, 12)}-4${part(13, 16)}-a${part(17, 20)}-${part(20, 32)}`
}

function clamp (value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value))
}

function round2 (value: number): number {
  return Math.round(value * 100) / 100
}
