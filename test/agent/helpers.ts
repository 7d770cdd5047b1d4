import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { pino } from 'pino'
import { createFsReader, type FsStats, type OsReader } from '../../src/agent/collectors/index.ts'

/** The folder of a recorded machine under test/fixtures/proc. */
export function fixtureRoot (machine: string): string {
  return join(fileURLToPath(new URL('../fixtures/proc/', import.meta.url)), machine)
}

/** statfs(2) of this VM's root filesystem, recorded when the fixtures were taken. */
export const vdaStats: FsStats = {
  bsize: 4096,
  blocks: 66053021,
  bfree: 62786808,
  bavail: 20609103,
  files: 16777216,
  ffree: 16358475
}

/** Reads a recorded machine; the fixtures hold no file systems, so statfs is given. */
export function fixtureReader (
  machine: string, statfs: OsReader['statfs'] = async () => vdaStats
): OsReader {
  return { readFile: createFsReader({ root: fixtureRoot(machine) }).readFile, statfs }
}

/** A reader over in-memory files that can be changed between two readings. */
export function memoryReader (
  files: Record<string, string>, statfs: OsReader['statfs'] = async () => vdaStats
): OsReader & { files: Record<string, string> } {
  return {
    files,
    async readFile (path) {
      const text = files[path]
      if (text === undefined) {
        throw Object.assign(new Error(`ENOENT: no such file, open '${path}'`), { code: 'ENOENT' })
      }
      return text
    },
    statfs
  }
}

export function manualClock (startMs = 0): { now: () => number, advance: (ms: number) => void } {
  let time = startMs
  return { now: () => time, advance: (ms) => { time += ms } }
}

export const silentLogger = pino({ level: 'silent' })
