/**
 * The files that identify a host:
 * - /proc/sys/kernel/hostname, /proc/sys/kernel/osrelease: the hostname and kernel release,
 *   one line each
 * - /etc/machine-id (systemd; /var/lib/dbus/machine-id on older systems): 32 lowercase hex
 *   digits, fixed at install time; an empty file means "not yet initialised"
 * - /etc/os-release (os-release(5)): shell-style `KEY=value` lines, values optionally quoted;
 *   PRETTY_NAME is the name for display, e.g. `Debian GNU/Linux 12 (bookworm)`
 * - /proc/sys/kernel/random/boot_id: a UUID drawn anew at every boot
 * - /proc/stat: one `cpuN` line per online logical CPU
 */

export function parseOsRelease (text: string): Record<string, string> {
  const fields: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line)
    if (match === null) continue
    fields[match[1] as string] = unquote((match[2] as string).trim())
  }
  return fields
}

function unquote (value: string): string {
  const quote = value[0]
  if ((quote === '"' || quote === '\'') && value.endsWith(quote) && value.length >= 2) {
    const inner = value.slice(1, -1)
    // Inside double quotes the shell drops the backslash before $ " \ and `.
    return quote === '"' ? inner.replace(/\\([$"\\`])/g, '$1') : inner
  }
  return value
}

/** PRETTY_NAME, else NAME and VERSION, else what os-release(5) says to assume: "Linux". */
export function osName (fields: Record<string, string>): string {
  if (fields.PRETTY_NAME) return fields.PRETTY_NAME
  if (fields.NAME) return [fields.NAME, fields.VERSION].filter(Boolean).join(' ')
  return 'Linux'
}

/** The machine id, or undefined if the file is empty or holds something else. */
export function parseMachineId (text: string): string | undefined {
  const id = text.trim().toLowerCase()
  return /^[0-9a-f]{32}$/.test(id) ? id : undefined
}

export function parseBootId (text: string): string {
  const id = text.trim()
  if (id === '' || id.length > 64) throw new Error(`unexpected boot id: ${id.slice(0, 100)}`)
  return id
}

export function countCpus (procStat: string): number {
  return procStat.match(/^cpu\d+\s/gm)?.length ?? 0
}
