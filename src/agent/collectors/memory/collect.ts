import type { Memory } from '../../../event/schema.ts'
import type { Collector } from '../collector.ts'
import type { OsReader } from '../reader.ts'
import { parseMeminfo, type Meminfo } from './parse.ts'

/** The memory figures of an event, with `free`'s meaning of cached and used. */
export function memoryFromMeminfo (meminfo: Meminfo): Memory {
  const total = meminfo.MemTotal
  if (total === undefined) throw new Error('/proc/meminfo has no MemTotal line')

  const free = meminfo.MemFree ?? 0
  const buffers = meminfo.Buffers ?? 0
  // As procps `free` does: reclaimable slab is cache in all but name.
  const cached = (meminfo.Cached ?? 0) + (meminfo.SReclaimable ?? 0)
  // Kernels before 3.14 have no MemAvailable. Free plus buffers plus cache is the estimate
  // tools used before it existed: a little optimistic, as not all cache can be dropped.
  const available = Math.min(total, meminfo.MemAvailable ?? free + buffers + cached)
  const swapTotal = meminfo.SwapTotal ?? 0
  const swapFree = Math.min(swapTotal, meminfo.SwapFree ?? 0)

  return {
    totalBytes: total,
    availableBytes: available,
    usedBytes: Math.max(0, total - available),
    freeBytes: free,
    buffersBytes: buffers,
    cachedBytes: cached,
    swapTotalBytes: swapTotal,
    swapFreeBytes: swapFree,
    swapUsedBytes: swapTotal - swapFree
  }
}

export function createMemoryCollector (reader: OsReader): Collector<'memory'> {
  return {
    family: 'memory',
    async collect (): Promise<Memory> {
      return memoryFromMeminfo(parseMeminfo(await reader.readFile('/proc/meminfo')))
    }
  }
}
