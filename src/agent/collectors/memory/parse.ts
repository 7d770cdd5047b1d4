/**
 * /proc/meminfo (proc(5)): one `Key:   value kB` line per quantity, kB meaning KiB. The keys
 * read here:
 * - MemTotal: usable RAM (physical RAM minus reserved and kernel code)
 * - MemFree: RAM not used for anything
 * - MemAvailable (3.14+): the kernel's estimate of what can be allocated without swapping,
 *   counting the reclaimable part of the page cache and slab
 * - Buffers: block device buffers
 * - Cached: the page cache, without SwapCached
 * - SReclaimable (2.6.19+): slab that can be reclaimed, e.g. dentry and inode caches
 * - SwapTotal, SwapFree: swap space and its unused part
 * A few lines (HugePages_*) are plain counts without a unit; they are kept as they are.
 */
export type Meminfo = Record<string, number>

/** Every line, in bytes where the kernel gave kB. */
export function parseMeminfo (text: string): Meminfo {
  const values: Meminfo = {}
  for (const line of text.split('\n')) {
    const match = /^([^:\s]+):\s+(\d+)(?:\s+(kB))?\s*$/.exec(line)
    if (match === null) continue
    const [, key, value, unit] = match as unknown as [string, string, string, string | undefined]
    values[key] = unit === undefined ? Number(value) : Number(value) * 1024
  }
  return values
}
