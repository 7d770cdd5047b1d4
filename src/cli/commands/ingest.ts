import { parseCommand, settingsFrom, settingsOptions } from '../args.ts'
import { connectStore, resolveEndpoints } from '../endpoints.ts'
import { abortedBy, untilSignal } from '../lifecycle.ts'
import { whileUnreachable } from '../wait.ts'
import { ErrorCodes, UserError } from '../../errors.ts'
import { Ingest } from '../../ingest/index.ts'
import { kafkaErrorCause } from '../../kafka/errors.ts'
import { kafkaConnection } from '../../kafka/options.ts'
import { ensureTopics } from '../../kafka/topics.ts'
import type { Settings } from '../../config/index.ts'
import type { Logger } from '../../log.ts'
import { migrate, type Store } from '../../store/index.ts'

export const usage = `vitals ingest

Consumes the metrics topic as a member of the ingest consumer group and stores every event in
ClickHouse; run several to share the partitions. Stops cleanly on SIGINT or SIGTERM.`

/**
 * Migrates the schema, makes sure the topics exist, and starts consuming. A ClickHouse or Kafka
 * that cannot be reached yet is waited for, up to `ingest.startWaitMs`; one that refuses (a
 * wrong password, an untrusted certificate) fails at once.
 */
export async function startIngest (settings: Settings, log: Logger, signal?: AbortSignal):
  Promise<{ ingest: Ingest, store: Store }> {
  const waitMs = settings.ingest.startWaitMs
  const store = await whileUnreachable(async () => await connectStore(settings), {
    server: `ClickHouse at ${settings.clickhouse.url}`,
    waitMs,
    log,
    signal,
    describe: (error) => (error as Error).message
  })
  await migrate(store, log)
  const connection = kafkaConnection(settings.kafka, 'ingest')
  try {
    await whileUnreachable(async () => await ensureTopics(connection, [
      { name: settings.kafka.topic, partitions: settings.kafka.partitions },
      { name: settings.kafka.deadLetterTopic, partitions: 1 }
    ], log), {
      server: `Kafka at ${settings.kafka.brokers.join(',')}`,
      waitMs,
      log,
      signal,
      describe: kafkaErrorCause
    })
  } catch (error) {
    await store.close()
    throw new UserError(ErrorCodes.KAFKA_UNAVAILABLE,
      `cannot use Kafka at ${settings.kafka.brokers.join(',')}: ${kafkaErrorCause(error)}`)
  }
  const ingest = new Ingest({
    connection,
    settings: settings.ingest,
    topic: settings.kafka.topic,
    deadLetterTopic: settings.kafka.deadLetterTopic,
    store,
    log
  })
  await ingest.start()
  return { ingest, store }
}

export async function ingestCommand (argv: string[], log: Logger): Promise<number> {
  const { values } = parseCommand('ingest', argv, settingsOptions)
  const { settings } = await resolveEndpoints(settingsFrom(values), log, { start: false, needs: { kafka: true, clickhouse: true } })
  const stopping = untilSignal(log)
  const stopped = abortedBy(stopping)
  let started: Awaited<ReturnType<typeof startIngest>>
  try {
    started = await startIngest(settings, log, stopped)
  } catch (error) {
    // Stopped while still waiting for a server: nothing was consumed, so nothing is left to do.
    if (stopped.aborted) return 0
    throw error
  }
  const { ingest, store } = started
  // An ingest that cannot go on exits non-zero, so that a service manager restarts it.
  await Promise.race([stopping, ingest.failed])
  await ingest.stop()
  await store.close()
  return ingest.failure === undefined ? 0 : 1
}
