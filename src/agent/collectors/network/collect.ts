import type { InterfaceRates, NetworkInterface } from '../../../event/schema.ts'
import { monotonicClock, type Collector, type MonotonicClock } from '../collector.ts'
import type { OsReader } from '../reader.ts'
import { interfaceCounterNames, parseNetDev, type InterfaceCounters } from './parse.ts'

/**
 * The event holds at most 1024 interfaces. The kernel lists them in the order they were created,
 * so lo and the physical ones come first; on a host with more (thousands of container veths)
 * the rest are left out.
 */
const maxInterfaces = 1024

/**
 * Per-second rates between two readings of one interface. A counter lower than before was reset
 * (driver reload) or wrapped (32-bit counters): it is taken to have restarted from zero, so its
 * increase is its current value. That undercounts a wrap, but never reports a negative rate.
 */
export function interfaceRates (
  current: InterfaceCounters, previous: InterfaceCounters, elapsedMs: number
): InterfaceRates {
  const rates = {} as InterfaceRates
  for (const name of interfaceCounterNames) {
    const now = current[name]
    const before = previous[name]
    const increase = now >= before ? now - before : now
    rates[name] = increase / (elapsedMs / 1000)
  }
  return rates
}

/**
 * Raw counters of every interface, `lo` included, with per-second rates since the previous
 * `collect()`. An interface seen for the first time has `perSecond: null`; one that disappeared
 * is forgotten, so if it comes back it starts again without rates.
 */
export function createNetworkCollector (
  reader: OsReader, clock: MonotonicClock = monotonicClock
): Collector<'network'> {
  let previous = new Map<string, InterfaceCounters>()
  let previousAt: number | undefined

  return {
    family: 'network',
    async collect (): Promise<NetworkInterface[]> {
      const text = await reader.readFile('/proc/net/dev')
      const now = clock()
      const interfaces = parseNetDev(text).slice(0, maxInterfaces)

      // Two readings at the same instant give no rate; the next call will.
      const elapsedMs = previousAt === undefined ? 0 : now - previousAt
      const result = interfaces.map((counters): NetworkInterface => {
        const before = previous.get(counters.name)
        const perSecond = before === undefined || elapsedMs <= 0
          ? null
          : interfaceRates(counters, before, elapsedMs)
        return { ...counters, perSecond }
      })

      previous = new Map(interfaces.map((counters) => [counters.name, counters]))
      previousAt = now
      return result
    }
  }
}
