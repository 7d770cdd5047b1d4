import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { ErrorCodes, VitalsError } from '../errors.ts'
import type { Logger } from '../log.ts'

export interface DetachedOptions {
  cwd: string
  outputFile: string // stdout and stderr, appended
  env?: NodeJS.ProcessEnv
}

/**
 * Starts a server in its own process group with no pipe back to us, so the CLI that started
 * it can exit and leave it running.
 */
export async function spawnDetached (
  command: string, args: string[], options: DetachedOptions
): Promise<number> {
  const output = openSync(options.outputFile, 'a')
  try {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['ignore', output, output]
    })
    await Promise.race([once(child, 'spawn'), once(child, 'error').then(([error]) => {
      throw new VitalsError(ErrorCodes.STACK_PROCESS, `could not start ${command}: ${error}`,
        { cause: error })
    })])
    child.unref()
    return child.pid as number
  } finally {
    closeSync(output)
  }
}

/**
 * Tells whether `pid` is still our server. The pid in a state file may have been reused after
 * a reboot, so on Linux the command line must contain `marker` (the server's config path); a
 * zombie left behind by a parent that never reaps it counts as gone.
 */
export function isAlive (pid: number, marker?: string): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return false
    if (marker === undefined) return true
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
  }
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export interface StopOptions {
  name: string
  marker?: string
  timeoutMs: number
  log: Logger
}

/** SIGTERM, then SIGKILL once `timeoutMs` has passed. Resolves false if it was not running. */
export async function stopProcess (pid: number, options: StopOptions): Promise<boolean> {
  if (!isAlive(pid, options.marker)) return false
  signal(pid, 'SIGTERM')

  const deadline = Date.now() + options.timeoutMs
  while (Date.now() < deadline) {
    if (!isAlive(pid, options.marker)) return true
    await sleep(100)
  }

  options.log.warn({ pid, name: options.name, timeoutMs: options.timeoutMs },
    'server ignored SIGTERM, killing it')
  signal(pid, 'SIGKILL')
  while (isAlive(pid, options.marker)) await sleep(50)
  return true
}

function signal (pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error
  }
}

export interface ReadyOptions {
  name: string
  pid: number
  marker: string
  timeoutMs: number
  logFiles: string[] // shown when the server dies or never answers
  probe: () => Promise<boolean>
  signal?: AbortSignal // stops waiting once a sibling server has failed
}

/** Polls `probe` until it answers, failing early when the process dies. */
export async function waitForReady (options: ReadyOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs
  while (true) {
    options.signal?.throwIfAborted()
    if (!isAlive(options.pid, options.marker)) {
      throw new VitalsError(ErrorCodes.STACK_PROCESS,
        `${options.name} exited during startup${await describeLogs(options.logFiles)}`)
    }
    if (await options.probe()) return
    if (Date.now() >= deadline) break
    await sleep(250)
  }
  throw new VitalsError(ErrorCodes.STACK_TIMEOUT,
    `${options.name} did not become ready within ${options.timeoutMs / 1000} s` +
    await describeLogs(options.logFiles), { retriable: true })
}

async function describeLogs (files: string[]): Promise<string> {
  let text = ''
  for (const file of files) {
    const tail = await tailFile(file, 15)
    if (tail !== '') text += `\nlast lines of ${file}:\n${tail}`
  }
  return text || `\nlogs: ${files.join(', ')} (empty)`
}

export async function tailFile (file: string, lines: number): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return ''
  }
}

export interface RunResult { stdout: string, stderr: string }

/**
 * Runs a command to completion; a non-zero exit becomes a VitalsError carrying its output.
 * `onLine` sees each line of its standard output as it comes.
 */
export async function run (
  command: string, args: string[],
  options: { cwd?: string, env?: NodeJS.ProcessEnv, onLine?: (line: string) => void } = {}
): Promise<RunResult> {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  let pending = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
    if (options.onLine === undefined) return
    const lines = (pending + chunk).split('\n')
    pending = lines.pop() ?? ''
    for (const line of lines) options.onLine(line)
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })

  type Exit = [number | null, string | null]
  const [code, signalName] = await new Promise<Exit>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (exitCode, exitSignal) => resolve([exitCode, exitSignal]))
  }).catch((error: unknown) => {
    throw new VitalsError(ErrorCodes.STACK_PROCESS, `could not run ${command}: ${error}`,
      { cause: error })
  })
  if (code === 0) return { stdout, stderr }

  const output = `${stdout}\n${stderr}`.trim().split('\n').slice(-20).join('\n')
  throw new VitalsError(ErrorCodes.STACK_PROCESS,
    `${command} ${args.join(' ')} failed (${signalName ?? `exit ${code}`}):\n${output}`)
}
