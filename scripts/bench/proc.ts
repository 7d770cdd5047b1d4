import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'

/**
 * What the benchmark reads about other processes, from Linux's /proc (proc(5)):
 * - /proc/<pid>/stat: one line; field 2 is the command name in parentheses, fields 14 and 15
 *   the user and system time of all the process's threads, in clock ticks.
 * - /proc/<pid>/status: "VmRSS:  1234 kB", the resident set in KiB; VmHWM, the same line for
 *   the most the process has ever had resident (its high-water mark).
 */

let ticks: Promise<number> | undefined

/** Clock ticks per second (`getconf CLK_TCK`), 100 on nearly every Linux. */
export function clockTicksPerSecond (): Promise<number> {
  ticks ??= new Promise((resolve) => {
    execFile('getconf', ['CLK_TCK'], { timeout: 5000 }, (error, stdout) => {
      resolve(error === null ? Number(stdout.trim()) || 100 : 100)
    })
  })
  return ticks
}

/** Fields of /proc/<pid>/stat from field 3 on: the command name may hold spaces or ')'. */
async function statFields (pid: number): Promise<string[]> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
}

/** utime + stime in clock ticks; field n of the line is at index n − 3. */
export async function cpuTicks (pid: number): Promise<number> {
  const fields = await statFields(pid)
  return Number(fields[11]) + Number(fields[12])
}

export async function cpuMsOf (pid: number): Promise<number> {
  return (await cpuTicks(pid)) * 1000 / await clockTicksPerSecond()
}

export async function rssBytes (pid: number): Promise<number> {
  return (await residentBytes(pid)).rss
}

/** The resident set now and at its peak, in bytes, from one read of /proc/<pid>/status. */
export async function residentBytes (pid: number): Promise<{ rss: number, peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const kib = (field: string): number => {
    const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(status)
    return match === null ? Number.NaN : Number(match[1]) * 1024
  }
  return { rss: kib('VmRSS'), peak: kib('VmHWM') }
}
