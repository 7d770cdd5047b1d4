import type { Uptime } from '../../../event/schema.ts'
import type { Collector } from '../collector.ts'
import type { OsReader } from '../reader.ts'
import { parseBootTime, parseUptime } from './parse.ts'

export function createUptimeCollector (reader: OsReader): Collector<'uptime'> {
  // Boot time only changes with a reboot, which restarts the agent too: /proc/stat, costly to
  // generate on machines with many interrupts, is read for it once.
  let bootTime: number | undefined

  return {
    family: 'uptime',
    async collect (): Promise<Uptime> {
      const uptimeSeconds = parseUptime(await reader.readFile('/proc/uptime'))
      bootTime ??= parseBootTime(await reader.readFile('/proc/stat')) * 1000
      return { uptimeSeconds, bootTime }
    }
  }
}
