import { monotonicClock, type Collectors, type MonotonicClock } from './collector.ts'
import type { OsReader } from './reader.ts'
import { createCpuCollector } from './cpu/index.ts'
import { createMemoryCollector } from './memory/index.ts'
import { createFilesystemsCollector } from './filesystems/index.ts'
import { createNetworkCollector } from './network/index.ts'
import { createUptimeCollector } from './uptime/index.ts'

/** One collector per metric family, all reading the system through `reader`. */
export function createCollectors (
  reader: OsReader, clock: MonotonicClock = monotonicClock
): Collectors {
  return {
    cpu: createCpuCollector(reader),
    memory: createMemoryCollector(reader),
    filesystems: createFilesystemsCollector(reader),
    network: createNetworkCollector(reader, clock),
    uptime: createUptimeCollector(reader)
  }
}

export { createFsReader } from './reader.ts'
export type { OsReader, FsStats, FsReaderOptions } from './reader.ts'
export { monotonicClock } from './collector.ts'
export type { Collector, Collectors, MonotonicClock } from './collector.ts'
export { readHostIdentity, readBootId } from './host/index.ts'
export type { HostIdentityOptions } from './host/index.ts'
export { createOsCollectors, osHostIdentity, osBootId } from './fallback.ts'
