import { setTimeout as sleep } from 'node:timers/promises'
import { Publisher } from '../../src/agent/publisher.ts'
import { nextTick } from '../../src/agent/sampler.ts'
import type { SimulatedHost } from '../../src/agent/simulate.ts'
import type { Settings } from '../../src/config/index.ts'
import type { Ingest } from '../../src/ingest/index.ts'
import { kafkaConnection } from '../../src/kafka/options.ts'
import { ensureTopics } from '../../src/kafka/topics.ts'
import type { Logger } from '../../src/log.ts'
import type { Store } from '../../src/store/index.ts'

export interface FillResult {
  hosts: number
  samplesPerHost: number
  events: number
  /** rows the events make across events, host_samples, filesystem and interface samples */
  rows: number
  undelivered: number
  ms: number
}

export interface DrainResult {
  stored: number
  deadLettered: number
  /** startIngest() until it resolved: schema migration, topic check, joining the group */
  startupMs: number
  /** startIngest() resolved until the last event was stored */
  drainMs: number
  complete: boolean
  failure?: string
}

/**
 * Publishes `samplesPerHost` samples of every host, back-dated one interval apart so they end
 * now, the way `vitals agent --simulate N --samples K` does, and waits until Kafka has them all.
 */
export async function fillTopic (settings: Settings, fleet: SimulatedHost[], samplesPerHost: number,
  log: Logger, timeoutMs = 90_000): Promise<FillResult> {
  const connection = kafkaConnection(settings.kafka, 'bench')
  await ensureTopics(connection, [
    { name: settings.kafka.topic, partitions: settings.kafka.partitions },
    { name: settings.kafka.deadLetterTopic, partitions: 1 }
  ], log)
  const total = fleet.length * samplesPerHost
  const publisher = new Publisher({
    connection,
    topic: settings.kafka.topic,
    partition: -1,
    compression: settings.agent.compression,
    bufferMaxSamples: total + 1,
    log
  })

  const started = Date.now()
  publisher.start()
  const interval = settings.agent.intervalMs
  const first = nextTick(started, interval) - samplesPerHost * interval
  let rows = 0
  for (let round = 0; round < samplesPerHost; round++) {
    for (const host of fleet) {
      const event = host.sample(first + round * interval)
      rows += 2 + (event.filesystems?.length ?? 0) + (event.network?.length ?? 0)
      publisher.publish(event)
    }
    // The buffer stays small, so the event objects do not pile up in memory.
    while (publisher.buffered > fleet.length * 4 && Date.now() - started < timeoutMs) await sleep(5)
  }
  const undelivered = await publisher.stop(Math.max(1000, timeoutMs - (Date.now() - started)))
  return {
    hosts: fleet.length, samplesPerHost, events: total, rows, undelivered, ms: Date.now() - started
  }
}

/** Waits until ingest has handled `total` events, polling its counters every 20 ms. */
export async function drain (ingest: Ingest, total: number, startedAt: number, readyAt: number,
  timeoutMs = 90_000): Promise<DrainResult> {
  const deadline = readyAt + timeoutMs
  const handled = (): number => ingest.telemetry.get('events_stored') +
    ingest.telemetry.get('messages_dead_lettered')
  while (handled() < total && ingest.failure === undefined && Date.now() < deadline) {
    await sleep(20)
  }
  const stored = ingest.telemetry.get('events_stored')
  return {
    stored,
    deadLettered: ingest.telemetry.get('messages_dead_lettered'),
    startupMs: readyAt - startedAt,
    drainMs: Date.now() - readyAt,
    complete: stored >= total,
    ...(ingest.failure === undefined ? {} : { failure: ingest.failure.message })
  }
}

/** Rows in each of the tables ingest writes, counted by the server. */
export async function tableRows (store: Store): Promise<Record<string, number>> {
  const counts: Record<string, number> = {}
  for (const table of ['events', 'host_samples', 'filesystem_samples', 'interface_samples']) {
    const rows = await store.query<{ n: string }>(`SELECT count() AS n FROM ${store.table(table)}`)
    counts[table] = Number(rows[0]?.n ?? 0)
  }
  return counts
}
