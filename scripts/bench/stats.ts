/** Small numeric and formatting helpers shared by the benchmark's parts. */

/** Nearest-rank percentile (p in 0..100) of unsorted values; NaN when there are none. */
export function percentile (values: number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number
}

export function median (values: number[]): number {
  return percentile(values, 50)
}

/** Milliseconds from a process.cpuUsage() delta (user + system, microseconds). */
export function cpuMs (usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000
}

export function fixed (value: number, digits = 2): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a'
}

/** 20000 → "20,000": grouped the same way whatever the machine's locale. */
export function whole (value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a'
}

export function mib (bytes: number): string {
  return `${fixed(bytes / 2 ** 20, 1)} MiB`
}

export function kib (bytes: number): string {
  return `${fixed(bytes / 1024, 1)} KiB`
}

/** Time since `startedMs` (Date.now() based) as "12.3 s". */
export function since (startedMs: number): string {
  return `${fixed((Date.now() - startedMs) / 1000, 1)} s`
}
