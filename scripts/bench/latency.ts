import { setTimeout as sleep } from 'node:timers/promises'
import { Publisher } from '../../src/agent/publisher.ts'
import type { SimulatedHost } from '../../src/agent/simulate.ts'
import type { Settings } from '../../src/config/index.ts'
import { kafkaConnection } from '../../src/kafka/options.ts'
import type { Logger } from '../../src/log.ts'
import type { Store } from '../../src/store/index.ts'
import { median, percentile } from './stats.ts'

export interface LatencyResult {
  published: number
  visible: number
  everyMs: number
  pollMs: number
  medianMs: number
  p99Ms: number
  minMs: number
  maxMs: number
}

/**
 * Sample → queryable latency. One sample of each host in `fleet` is published every `everyMs`,
 * stamped with the time it is handed to the publisher; one query every `pollMs` asks ClickHouse
 * which of the pending hosts have a row yet. A sample counts as visible at the start of the
 * first query that finds it, so the figures are exact to about one poll.
 *
 * Every host must be new to the table: a host is looked up by its id alone.
 */
export async function measureLatency (settings: Settings, store: Store, fleet: SimulatedHost[],
  log: Logger, options: { everyMs?: number, pollMs?: number, graceMs?: number } = {}):
  Promise<LatencyResult> {
  const everyMs = options.everyMs ?? 100
  const pollMs = options.pollMs ?? 20
  const graceMs = options.graceMs ?? 15_000
  const publisher = new Publisher({
    connection: kafkaConnection(settings.kafka, 'bench-latency'),
    topic: settings.kafka.topic,
    partition: -1,
    compression: settings.agent.compression,
    bufferMaxSamples: fleet.length + 1,
    log
  })
  publisher.start()

  const pending = new Map<string, number>()
  const latencies: number[] = []
  let publishing = true
  let deadline = Number.POSITIVE_INFINITY
  // One query for all pending samples: a query per sample every 20 ms would load the two cores
  // that Kafka, ClickHouse and the ingest share, and so lengthen what it measures.
  const poller = (async () => {
    while ((publishing || pending.size > 0) && Date.now() < deadline) {
      const started = Date.now()
      if (pending.size > 0) {
        const rows = await store.query<{ host_id: string }>(
          `SELECT DISTINCT host_id FROM ${store.table('host_samples')}
           WHERE has({ids:Array(String)}, host_id)`, { ids: [...pending.keys()] })
        for (const { host_id: id } of rows) {
          const time = pending.get(id)
          if (time === undefined) continue
          latencies.push(started - time)
          pending.delete(id)
        }
      }
      await sleep(Math.max(0, pollMs - (Date.now() - started)))
    }
  })()

  try {
    for (const host of fleet) {
      const event = host.sample(Date.now())
      pending.set(event.host.id, event.time)
      publisher.publish(event)
      await sleep(everyMs)
    }
    deadline = Date.now() + graceMs
    publishing = false
    await poller
  } finally {
    publishing = false
    deadline = 0
    await poller.catch(() => {})
    await publisher.stop(5000)
  }

  return {
    published: fleet.length,
    visible: latencies.length,
    everyMs,
    pollMs,
    medianMs: median(latencies),
    p99Ms: percentile(latencies, 99),
    minMs: latencies.length === 0 ? Number.NaN : Math.min(...latencies),
    maxMs: latencies.length === 0 ? Number.NaN : Math.max(...latencies)
  }
}
