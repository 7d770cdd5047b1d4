/**
 * /proc/uptime: `209.86 301.73`, seconds since boot, then the idle time summed over all CPUs
 * (so it can exceed the first). Boot time comes from the `btime` line of /proc/stat, in seconds
 * since the epoch: the kernel computes it once, so unlike now − uptime it does not jitter.
 */
export function parseUptime (text: string): number {
  const seconds = Number(text.trim().split(/\s+/)[0])
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new Error(`unexpected /proc/uptime: ${text.trim().slice(0, 100)}`)
  }
  return seconds
}

/** The `btime` of /proc/stat, in seconds since the epoch. */
export function parseBootTime (procStat: string): number {
  const match = /^btime\s+(\d+)\s*$/m.exec(procStat)
  if (match === null) throw new Error('/proc/stat has no btime line')
  return Number(match[1])
}
