import type { HostSummary } from '../store/index.ts'

const columns = ['HOST', 'SAMPLE TIME', 'CPU %', 'MEM %', 'DISK % (fullest)', 'NET RX/s', 'NET TX/s',
  'UPTIME']

/** The live table `vitals up` shows: one line per host, newest sample. */
export function renderHosts (hosts: HostSummary[], now = new Date()): string {
  const rows = hosts.map((host) => [
    host.hostname === '' ? host.host_id : host.hostname,
    host.time,
    percent(host.cpu_busy),
    percent(host.mem_used_pct),
    host.fullest_disk_pct === null ? '-' : `${percent(host.fullest_disk_pct)} ${host.fullest_disk_mount}`,
    bytes(host.rx_bytes_per_sec),
    bytes(host.tx_bytes_per_sec),
    duration(host.uptime_seconds)
  ])
  const widths = columns.map((title, index) =>
    Math.max(title.length, ...rows.map((row) => row[index].length)))
  const line = (cells: string[]) =>
    cells.map((cell, index) => cell.padEnd(widths[index])).join('  ').trimEnd()

  const header = `Vitals: ${hosts.length} host${hosts.length === 1 ? '' : 's'} · ${now.toISOString()}`
  const body = rows.length === 0 ? ['(waiting for the first sample to be stored)'] : rows.map(line)
  return [header, '', line(columns), ...body].join('\n')
}

function percent (value: number | null): string {
  return value === null || !Number.isFinite(value) ? '-' : value.toFixed(1)
}

function bytes (value: number | null): string {
  if (value === null || !Number.isFinite(value)) {
    return '-'
  }
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let scaled = value
  let unit = 0
  while (scaled >= 1024 && unit < units.length - 1) {
    scaled /= 1024
    unit++
  }
  return `${scaled.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`
}

function duration (seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) {
    return '-'
  }
  const days = Math.floor(seconds / 86_400)
  const hours = Math.floor((seconds % 86_400) / 3600)
  const minutes = Math.floor((seconds % 3600) / 60)
  return days > 0 ? `${days}d ${hours}h` : hours > 0 ? `${hours}h ${minutes}m` : `${minutes}m`
}
