import { constants } from 'node:fs'
import { access } from 'node:fs/promises'
import { delimiter, join } from 'node:path'
import { MissingToolError } from '../errors.ts'
import { run } from './process.ts'
import type { Progress } from './progress.ts'

/** A program to run: `args` come before the caller's own (`clickhouse server ...`). */
export interface Tool {
  command: string
  args: string[]
}

interface ToolSpec {
  label: string
  debianPackage: string
  candidates: Tool[]
}

const specs = {
  java: {
    label: 'java',
    debianPackage: 'openjdk-17-jre-headless',
    candidates: [{ command: 'java', args: [] }]
  },
  mvn: {
    label: 'mvn (Maven)',
    debianPackage: 'maven',
    candidates: [{ command: 'mvn', args: [] }]
  },
  clickhouse: {
    label: 'clickhouse-server',
    debianPackage: 'clickhouse-server',
    candidates: [
      { command: 'clickhouse-server', args: [] },
      { command: 'clickhouse', args: ['server'] }
    ]
  }
} satisfies Record<string, ToolSpec>

export type ToolName = keyof typeof specs

// Servers live in sbin, which is missing from a non-root PATH on Debian.
const extraDirs = ['/usr/sbin', '/usr/local/sbin', '/sbin']

let aptUpdated = false

/**
 * Finds a tool, or installs its Debian package when we are root with apt-get at hand (the
 * machines this project runs on are rebuilt from its own files, so nothing else would).
 */
export async function requireTool (name: ToolName, progress: Progress): Promise<Tool> {
  const spec: ToolSpec = specs[name]
  const found = await findTool(spec)
  if (found !== undefined) return found

  const aptGet = await findOnPath('apt-get')
  if (process.getuid?.() !== 0 || aptGet === undefined) {
    throw new MissingToolError(spec.label, spec.debianPackage)
  }

  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  if (!aptUpdated) {
    progress.say('apt-get update', { tool: name })
    await run(aptGet, ['update'], { env })
    aptUpdated = true
  }
  progress.say(`apt-get install -y ${spec.debianPackage}`, { tool: name })
  await run(aptGet, ['install', '-y', spec.debianPackage], { env })

  const installed = await findTool(spec)
  if (installed === undefined) throw new MissingToolError(spec.label, spec.debianPackage)
  return installed
}

async function findTool (spec: ToolSpec): Promise<Tool | undefined> {
  for (const candidate of spec.candidates) {
    const path = await findOnPath(candidate.command)
    if (path !== undefined) return { command: path, args: candidate.args }
  }
  return undefined
}

async function findOnPath (command: string): Promise<string | undefined> {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...extraDirs]
  for (const dir of dirs) {
    const path = join(dir, command)
    try {
      await access(path, constants.X_OK)
      return path
    } catch {}
  }
  return undefined
}

/** Kafka 4 needs Java 17; an older default `java` fails with an unreadable class-version error. */
export async function requireJava (progress: Progress): Promise<Tool> {
  const java = await requireTool('java', progress)
  const { stderr, stdout } = await run(java.command, [...java.args, '-version'])
  const match = /version "(\d+)(?:\.(\d+))?/.exec(stderr + stdout)
  const major = match === null ? 0 : Number(match[1] === '1' ? match[2] : match[1])
  if (major < 17) throw new MissingToolError('java 17 or newer', specs.java.debianPackage)
  return java
}
