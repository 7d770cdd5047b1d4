/**
 * /proc/stat (proc(5)), the lines read here:
 *
 *   cpu  user nice system idle iowait irq softirq steal guest guest_nice
 *   cpu0 ...the same columns for each online logical CPU
 *   btime 1796322162
 *
 * Each CPU column counts USER_HZ ticks (1/100 s) since boot:
 * - user: normal processes in user mode, guest time included
 * - nice: niced processes in user mode, guest_nice time included
 * - system: kernel mode
 * - idle: the idle task
 * - iowait (2.5.41+): idle with I/O outstanding; on NO_HZ kernels it can go backwards
 * - irq, softirq (2.6.0+): servicing hardware and software interrupts
 * - steal (2.6.11+): the hypervisor ran something else on this CPU
 * - guest (2.6.24+), guest_nice (2.6.33+): running a guest's virtual CPU
 * Older kernels print fewer columns (2.4 only the first four); a missing column reads as 0.
 * An offline CPU has no line, so numbering can have gaps, and the `cpu` line, a sum over online
 * CPUs, can drop when one goes offline.
 * `btime` is the boot time in seconds since the Unix epoch.
 */
export interface CpuCounters {
  user: number
  nice: number
  system: number
  idle: number
  iowait: number
  irq: number
  softirq: number
  steal: number
  guest: number
  guestNice: number
}

export const cpuCounterNames = [
  'user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal', 'guest', 'guestNice'
] as const satisfies ReadonlyArray<keyof CpuCounters>

export interface CoreCounters {
  /** N of the `cpuN` line */
  id: number
  counters: CpuCounters
}

export interface ProcStat {
  total: CpuCounters
  cores: CoreCounters[]
  /** seconds since the epoch; undefined if the kernel printed no btime line */
  bootTime: number | undefined
}

export function parseProcStat (text: string): ProcStat {
  let total: CpuCounters | undefined
  const cores: CoreCounters[] = []
  let bootTime: number | undefined

  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/)
    const key = fields[0]
    if (key === 'cpu') {
      total = parseCounters(fields, line)
    } else if (key !== undefined && /^cpu\d+$/.test(key)) {
      cores.push({ id: Number(key.slice(3)), counters: parseCounters(fields, line) })
    } else if (key === 'btime') {
      bootTime = parseNumber(fields[1], line)
    }
  }

  if (total === undefined) throw new Error('/proc/stat has no cpu line')
  return { total, cores, bootTime }
}

function parseCounters (fields: string[], line: string): CpuCounters {
  if (fields.length < 5) throw new Error(`/proc/stat line has fewer than 4 counters: ${line}`)
  const counters = {} as CpuCounters
  cpuCounterNames.forEach((name, i) => {
    const field = fields[i + 1]
    counters[name] = field === undefined ? 0 : parseNumber(field, line)
  })
  return counters
}

/** /proc/loadavg: `0.70 0.39 0.16 2/90 4699`, the 1, 5 and 15 minute load averages (runnable
 * plus uninterruptible tasks), then running/total tasks and the last pid used. */
export interface LoadAverage {
  load1: number
  load5: number
  load15: number
}

export function parseLoadavg (text: string): LoadAverage {
  const [load1, load5, load15] = text.trim().split(/\s+/)
  return {
    load1: parseNumber(load1, text),
    load5: parseNumber(load5, text),
    load15: parseNumber(load15, text)
  }
}

function parseNumber (field: string | undefined, line: string): number {
  const value = Number(field)
  if (field === undefined || field === '' || !Number.isFinite(value) || value < 0) {
    throw new Error(`unexpected value ${JSON.stringify(field)} in: ${line.trim().slice(0, 200)}`)
  }
  return value
}
