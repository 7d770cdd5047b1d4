import type { HostIdentity } from '../../../event/schema.ts'
import type { OsReader } from '../reader.ts'
import { countCpus, osName, parseBootId, parseMachineId, parseOsRelease } from './parse.ts'

export interface HostIdentityOptions {
  agentVersion: string
  tags?: Record<string, string>
  /** overrides the machine id, e.g. for clones of one image that share it */
  hostId?: string
}

/** Who the host is. Read once when the agent starts: none of it changes without a reboot. */
export async function readHostIdentity (
  reader: OsReader, options: HostIdentityOptions
): Promise<HostIdentity> {
  const optional = (path: string) => reader.readFile(path).catch(() => undefined)
  const [hostname, kernel, osRelease, machineId, dbusMachineId, stat] = await Promise.all([
    reader.readFile('/proc/sys/kernel/hostname'),
    optional('/proc/sys/kernel/osrelease'),
    optional('/etc/os-release').then((text) => text ?? optional('/usr/lib/os-release')),
    optional('/etc/machine-id'),
    optional('/var/lib/dbus/machine-id'),
    reader.readFile('/proc/stat')
  ])
  const name = hostname.trim()
  const id = options.hostId ??
    parseMachineId(machineId ?? '') ?? parseMachineId(dbusMachineId ?? '') ?? name

  return {
    id: id.slice(0, 128),
    name: name.slice(0, 255),
    os: (osRelease === undefined ? 'Linux' : osName(parseOsRelease(osRelease))).slice(0, 255),
    kernel: (kernel?.trim() || 'unknown').slice(0, 255),
    arch: process.arch,
    cpuCount: Math.max(1, countCpus(stat)),
    agentVersion: options.agentVersion,
    tags: { ...options.tags }
  }
}

export async function readBootId (reader: OsReader): Promise<string> {
  return parseBootId(await reader.readFile('/proc/sys/kernel/random/boot_id'))
}
