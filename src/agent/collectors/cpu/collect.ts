import type { Cpu, CpuTimes } from '../../../event/schema.ts'
import type { Collector } from '../collector.ts'
import type { OsReader } from '../reader.ts'
import {
  cpuCounterNames, parseLoadavg, parseProcStat, type CpuCounters, type ProcStat
} from './parse.ts'

/**
 * The share of each CPU state between two readings of the same counters, in percent. Without an
 * earlier reading the shares are of the whole time since boot.
 */
export function cpuTimes (current: CpuCounters, previous?: CpuCounters): CpuTimes {
  const delta = {} as CpuCounters
  for (const name of cpuCounterNames) {
    // A counter that went backwards (iowait on NO_HZ kernels, the total after a CPU went
    // offline) contributes nothing rather than a negative share.
    delta[name] = previous === undefined
      ? current[name]
      : Math.max(0, current[name] - previous[name])
  }

  // The kernel counts guest time inside user and guest_nice inside nice: they are not added
  // to the total again, and cannot be more than what contains them.
  delta.guest = Math.min(delta.guest, delta.user)
  delta.guestNice = Math.min(delta.guestNice, delta.nice)
  const total = delta.user + delta.nice + delta.system + delta.idle + delta.iowait +
    delta.irq + delta.softirq + delta.steal

  // No tick elapsed between the readings: the share since boot says more than zeros would.
  if (total === 0 && previous !== undefined) return cpuTimes(current)

  const share = (ticks: number) =>
    total === 0 ? 0 : Math.min(100, Math.max(0, Math.round(ticks / total * 10_000) / 100))
  return {
    user: share(delta.user),
    nice: share(delta.nice),
    system: share(delta.system),
    idle: share(delta.idle),
    iowait: share(delta.iowait),
    irq: share(delta.irq),
    softirq: share(delta.softirq),
    steal: share(delta.steal),
    guest: share(delta.guest),
    guestNice: share(delta.guestNice),
    busy: share(total - delta.idle - delta.iowait)
  }
}

/**
 * CPU shares over the interval since the previous `collect()`. The first call has no earlier
 * reading and reports shares since boot; call it once to prime when a real interval matters.
 */
export function createCpuCollector (reader: OsReader): Collector<'cpu'> {
  let previous: ProcStat | undefined

  return {
    family: 'cpu',
    async collect (): Promise<Cpu> {
      const [statText, loadText] = await Promise.all([
        reader.readFile('/proc/stat'),
        reader.readFile('/proc/loadavg')
      ])
      const stat = parseProcStat(statText)
      const load = parseLoadavg(loadText)

      // Cores are matched by number: one that came online since the last reading has nothing
      // to compare with and reports its share since boot; one that went offline is left out.
      const earlier = new Map(previous?.cores.map((core) => [core.id, core.counters]))
      const perCore = stat.cores.map((core) => cpuTimes(core.counters, earlier.get(core.id)))
      const total = cpuTimes(stat.total, previous?.total)
      previous = stat

      return { cores: Math.max(1, stat.cores.length), total, perCore, ...load }
    }
  }
}
