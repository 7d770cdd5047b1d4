import type { Store } from './client.ts'

/** The newest sample of each host, with the figures an operator scans first. */
export interface HostSummary {
  host_id: string
  hostname: string
  time: string
  cpu_busy: number | null
  mem_used_pct: number | null
  fullest_disk_pct: number | null
  fullest_disk_mount: string
  rx_bytes_per_sec: number | null
  tx_bytes_per_sec: number | null
  uptime_seconds: number | null
}

/**
 * One row per host seen in the last `withinSeconds`, from its newest sample. Fullest disk and
 * network rates come from the rows of that same sample (its seq); loopback is left out of the
 * network figures.
 */
export async function latestPerHost (store: Store, withinSeconds = 3600): Promise<HostSummary[]> {
  const hosts = await store.query<Omit<HostSummary, 'fullest_disk_pct' | 'fullest_disk_mount' |
    'rx_bytes_per_sec' | 'tx_bytes_per_sec'> & { seq: number }>(`
SELECT
  host_id,
  argMax(hostname, time) AS hostname,
  toString(max(time)) AS time,
  argMax(seq, time) AS seq,
  argMax(cpu_busy, time) AS cpu_busy,
  argMax(mem_used_bytes, time) / argMax(mem_total_bytes, time) * 100 AS mem_used_pct,
  argMax(uptime_seconds, time) AS uptime_seconds
FROM ${store.table('host_samples')}
WHERE time > now() - {within:UInt32}
GROUP BY host_id
ORDER BY host_id`, { within: withinSeconds })

  const disks = await store.query<{ host_id: string, seq: number, mount: string, used_pct: number }>(`
SELECT host_id, seq, argMax(mount, used_pct) AS mount, max(used_pct) AS used_pct
FROM ${store.table('filesystem_samples')}
WHERE time > now() - {within:UInt32}
GROUP BY host_id, seq`, { within: withinSeconds })

  const nets = await store.query<{ host_id: string, seq: number, rx: number | null, tx: number | null }>(`
SELECT host_id, seq, sum(rx_bytes_per_sec) AS rx, sum(tx_bytes_per_sec) AS tx
FROM ${store.table('interface_samples')}
WHERE time > now() - {within:UInt32} AND interface != 'lo'
GROUP BY host_id, seq`, { within: withinSeconds })

  const key = (row: { host_id: string, seq: number }) => `${row.host_id}\u0000${row.seq}`
  const diskBy = new Map(disks.map((row) => [key(row), row]))
  const netBy = new Map(nets.map((row) => [key(row), row]))
  return hosts.map(({ seq, ...host }) => {
    const disk = diskBy.get(key({ host_id: host.host_id, seq }))
    const net = netBy.get(key({ host_id: host.host_id, seq }))
    return {
      ...host,
      fullest_disk_pct: disk?.used_pct ?? null,
      fullest_disk_mount: disk?.mount ?? '',
      rx_bytes_per_sec: net?.rx ?? null,
      tx_bytes_per_sec: net?.tx ?? null
    }
  })
}
