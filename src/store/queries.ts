import type { QueryOptions, Store } from './client.ts'

/** These queries only read: the server is told so, and refuses anything else. */
const readOnly: QueryOptions = { readonly: true }

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
 * One row per host seen in the last `withinSeconds`, from its newest sample: a family that
 * failed in that sample shows as null rather than an older value. Fullest disk and network
 * rates come from the rows of that same sample; loopback is left out of the network figures.
 */
export async function latestPerHost (store: Store, withinSeconds = 3600): Promise<HostSummary[]> {
  const params = { within: withinSeconds }
  // The newest sample of each host, as (host_id, time) pairs for the per-row tables.
  const newest = `SELECT host_id, max(time) FROM ${store.table('host_samples')}
    WHERE time > now() - {within:UInt32} GROUP BY host_id`

  const hosts = await store.query<Omit<HostSummary, 'time' | 'fullest_disk_pct' | 'fullest_disk_mount' |
    'rx_bytes_per_sec' | 'tx_bytes_per_sec'> & { sample_time: string }>(`
SELECT host_id, hostname, toString(time) AS sample_time, cpu_busy,
  mem_used_bytes / mem_total_bytes * 100 AS mem_used_pct, uptime_seconds
FROM ${store.table('host_samples')}
WHERE time > now() - {within:UInt32}
ORDER BY host_id, time DESC
LIMIT 1 BY host_id`, params, readOnly)

  const disks = await store.query<{ host_id: string, mount: string, fullest_pct: number }>(`
SELECT host_id, mount, used_pct AS fullest_pct
FROM ${store.table('filesystem_samples')}
WHERE (host_id, time) IN (${newest})
ORDER BY host_id, used_pct DESC
LIMIT 1 BY host_id`, params, readOnly)

  // A redelivered sample has copies until the table merges them away: each interface is
  // counted once, by taking one copy of it per host before summing.
  const nets = await store.query<{ host_id: string, rx: number | null, tx: number | null }>(`
SELECT host_id, sum(rx) AS rx, sum(tx) AS tx
FROM (
  SELECT host_id, interface, any(rx_bytes_per_sec) AS rx, any(tx_bytes_per_sec) AS tx
  FROM ${store.table('interface_samples')}
  WHERE (host_id, time) IN (${newest}) AND interface != 'lo'
  GROUP BY host_id, interface
)
GROUP BY host_id`, params, readOnly)

  const diskBy = new Map(disks.map((row) => [row.host_id, row]))
  const netBy = new Map(nets.map((row) => [row.host_id, row]))
  return hosts.map(({ sample_time: time, ...host }) => {
    const disk = diskBy.get(host.host_id)
    const net = netBy.get(host.host_id)
    return {
      ...host,
      time,
      fullest_disk_pct: disk?.fullest_pct ?? null,
      fullest_disk_mount: disk?.mount ?? '',
      rx_bytes_per_sec: net?.rx ?? null,
      tx_bytes_per_sec: net?.tx ?? null
    }
  })
}

/** How many of the samples each host's agent took are stored, and when it was last heard of. */
export interface HostCompleteness {
  host_id: string
  hostname: string
  last_sample: string
  age_seconds: number
  interval_ms: number
  /** Samples stored in the window, once each. */
  stored: number
  /** Samples the sequence numbers say were taken in the window. */
  expected: number
  /** Agent runs seen in the window: more than one means the agent restarted. */
  agent_runs: number
  boots: number
}

/**
 * Per host, over the last `withinSeconds`: within one agent run the sequence numbers have no
 * holes, so (highest − lowest + 1) is what was taken and the distinct ones are what arrived.
 * Samples lost before the first stored one of a run, or after the last, cannot be seen this way.
 */
export async function completenessPerHost (store: Store, withinSeconds = 3600):
  Promise<HostCompleteness[]> {
  const rows = await store.query<HostCompleteness>(`
SELECT
  host_id,
  argMax(hostname, last_time) AS hostname,
  toString(max(last_time)) AS last_sample,
  toUInt32(now() - toDateTime(max(last_time))) AS age_seconds,
  argMax(sample_interval, last_time) AS interval_ms,
  sum(stored) AS stored,
  sum(expected) AS expected,
  count() AS agent_runs,
  uniqExact(boot) AS boots
FROM (
  SELECT host_id, agent_started_at, any(boot_id) AS boot, argMax(hostname, time) AS hostname,
    max(time) AS last_time, argMax(interval_ms, time) AS sample_interval,
    uniqExact(seq) AS stored, max(seq) - min(seq) + 1 AS expected
  FROM ${store.table('host_samples')}
  WHERE time > now() - {within:UInt32}
  GROUP BY host_id, agent_started_at
)
GROUP BY host_id
ORDER BY host_id`, { within: withinSeconds }, readOnly)
  return rows.map((row) => ({
    ...row,
    age_seconds: Number(row.age_seconds),
    interval_ms: Number(row.interval_ms),
    stored: Number(row.stored),
    expected: Number(row.expected),
    agent_runs: Number(row.agent_runs),
    boots: Number(row.boots)
  }))
}
