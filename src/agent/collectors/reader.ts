import { promises as fs, readFileSync } from 'node:fs'
import { join } from 'node:path'

/** The numbers of statfs(2) a collector needs: block counts in units of `bsize` bytes. */
export interface FsStats {
  bsize: number
  blocks: number
  bfree: number
  bavail: number
  files: number
  ffree: number
}

/**
 * Everything the collectors ask of the operating system. Collectors never touch `node:fs`
 * themselves, so a test can hand them recorded `/proc` files or a reader that fails on purpose.
 */
export interface OsReader {
  readFile (path: string): Promise<string>
  statfs (path: string): Promise<FsStats>
}

export interface FsReaderOptions {
  /**
   * Prefixed to every absolute path, '/' by default. Points the agent at a fixture folder in
   * tests, or at the host's root mounted inside a container (e.g. '/host').
   */
  root?: string
}

export function createFsReader (options: FsReaderOptions = {}): OsReader {
  const root = options.root ?? '/'

  return {
    // The collectors read small files the kernel generates (/proc) or that sit in the page
    // cache (/etc): a synchronous read does not block, and costs an eighth of the CPU of the
    // thread-pool round trips of an asynchronous one. statfs stays asynchronous, since a dead
    // network filesystem can hang it. /proc files report a size of 0; readFileSync reads until
    // EOF, so their text comes out whole.
    readFile: async (path) => readFileSync(join(root, path), 'utf8'),
    statfs: async (path) => {
      const stats = await fs.statfs(join(root, path))
      return {
        bsize: stats.bsize,
        blocks: stats.blocks,
        bfree: stats.bfree,
        bavail: stats.bavail,
        files: stats.files,
        ffree: stats.ffree
      }
    }
  }
}
