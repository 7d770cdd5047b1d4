import os from 'node:os'
import type { HostIdentity } from '../../event/schema.ts'
import type { Collectors } from './collector.ts'
import { cpuTimes, type CpuCounters } from './cpu/index.ts'
import type { HostIdentityOptions } from './host/index.ts'

/**
 * Collectors for systems without /proc (macOS, the BSDs, Windows), from what `node:os` offers:
 * CPU times, total and free memory, load and uptime. It has no mount table and no interface
 * counters, so filesystems and network are empty lists. Meant for trying the agent on a laptop,
 * not for monitoring such hosts.
 */
export function createOsCollectors (): Collectors {
  let previous: CpuCounters[] | undefined

  return {
    cpu: {
      family: 'cpu',
      async collect () {
        const cores = os.cpus().map(({ times }): CpuCounters => ({
          user: times.user,
          nice: times.nice,
          system: times.sys,
          idle: times.idle,
          iowait: 0,
          irq: times.irq,
          softirq: 0,
          steal: 0,
          guest: 0,
          guestNice: 0
        }))
        const total = sumCounters(cores)
        const perCore = cores.map((core, i) => cpuTimes(core, previous?.[i]))
        const earlier = previous === undefined ? undefined : sumCounters(previous)
        const totalTimes = cpuTimes(total, earlier)
        previous = cores
        const [load1 = 0, load5 = 0, load15 = 0] = os.loadavg()
        const count = Math.max(1, cores.length)
        return { cores: count, total: totalTimes, perCore, load1, load5, load15 }
      }
    },
    memory: {
      family: 'memory',
      async collect () {
        const total = os.totalmem()
        const free = Math.min(total, os.freemem())
        return {
          totalBytes: total,
          availableBytes: free,
          usedBytes: total - free,
          freeBytes: free,
          buffersBytes: 0,
          cachedBytes: 0,
          swapTotalBytes: 0,
          swapFreeBytes: 0,
          swapUsedBytes: 0
        }
      }
    },
    filesystems: { family: 'filesystems', collect: async () => [] },
    network: { family: 'network', collect: async () => [] },
    uptime: {
      family: 'uptime',
      async collect () {
        const uptimeSeconds = os.uptime()
        return { uptimeSeconds, bootTime: osBootTime(uptimeSeconds) }
      }
    }
  }
}

export function osHostIdentity (options: HostIdentityOptions): HostIdentity {
  const name = os.hostname()
  return {
    id: (options.hostId ?? name).slice(0, 128),
    name: name.slice(0, 255),
    os: `${os.type()} ${os.release()}`.slice(0, 255),
    kernel: os.release().slice(0, 255),
    arch: process.arch,
    cpuCount: Math.max(1, os.cpus().length),
    agentVersion: options.agentVersion,
    tags: { ...options.tags }
  }
}

/**
 * There is no boot id without /proc: the boot time to the minute stands in for it. It can come
 * out one minute off across agent restarts, which then reads as a reboot.
 */
export function osBootId (): string {
  return `boot-${Math.round(osBootTime(os.uptime()) / 60_000)}`
}

function osBootTime (uptimeSeconds: number): number {
  return Math.round((Date.now() - uptimeSeconds * 1000) / 1000) * 1000
}

function sumCounters (cores: CpuCounters[]): CpuCounters {
  const sum: CpuCounters = {
    user: 0, nice: 0, system: 0, idle: 0, iowait: 0,
    irq: 0, softirq: 0, steal: 0, guest: 0, guestNice: 0
  }
  for (const core of cores) {
    for (const key of Object.keys(sum) as Array<keyof CpuCounters>) sum[key] += core[key]
  }
  return sum
}
