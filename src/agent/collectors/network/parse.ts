/**
 * /proc/net/dev: two header lines, then one line per interface of the process's network
 * namespace, `name:` followed by 16 counters since the interface was created:
 *
 *   receive:  bytes packets errs drop fifo frame compressed multicast
 *   transmit: bytes packets errs drop fifo colls carrier compressed
 *
 * errs counts packets with errors (CRC, length, ...), drop packets dropped for lack of buffers
 * or by the stack. The counters are 64 bits on current kernels, but some drivers keep 32-bit
 * ones that wrap, and counters restart from zero when a driver is reloaded. Old kernels leave no
 * space between the name's colon and a wide first counter (`eth0:123456789`).
 */
export interface InterfaceCounters {
  name: string
  rxBytes: number
  txBytes: number
  rxPackets: number
  txPackets: number
  rxErrors: number
  txErrors: number
  rxDrops: number
  txDrops: number
}

export const interfaceCounterNames = [
  'rxBytes', 'txBytes', 'rxPackets', 'txPackets', 'rxErrors', 'txErrors', 'rxDrops', 'txDrops'
] as const satisfies ReadonlyArray<keyof InterfaceCounters>

export function parseNetDev (text: string): InterfaceCounters[] {
  const interfaces: InterfaceCounters[] = []
  for (const line of text.split('\n')) {
    // Interface names cannot contain a colon; the header lines use '|' instead.
    const colon = line.indexOf(':')
    if (colon < 0) continue
    const name = line.slice(0, colon).trim()
    const fields = line.slice(colon + 1).trim().split(/\s+/).map(Number)
    if (name === '' || fields.length < 16 || fields.some((n) => !Number.isFinite(n) || n < 0)) {
      throw new Error(`unexpected /proc/net/dev line: ${line.trim().slice(0, 200)}`)
    }
    const field = (i: number) => fields[i] as number
    interfaces.push({
      name,
      rxBytes: field(0),
      rxPackets: field(1),
      rxErrors: field(2),
      rxDrops: field(3),
      txBytes: field(8),
      txPackets: field(9),
      txErrors: field(10),
      txDrops: field(11)
    })
  }
  return interfaces
}
