import type { Settings } from '../config/index.ts'
import type { SampleEvent } from '../event/index.ts'
import { kafkaErrorCause } from '../kafka/errors.ts'
import { kafkaConnection } from '../kafka/options.ts'
import { ensureTopics } from '../kafka/topics.ts'
import type { Logger } from '../log.ts'
import { VITALS_VERSION } from '../version.ts'
import { Publisher } from './publisher.ts'
import { runSampler, Sampler } from './sampler.ts'

export interface AgentHandle {
  publisher: Publisher
  sampler: Sampler
  /** Stops sampling, then delivers what is buffered. Resolves with the undelivered count. */
  stop: (timeoutMs?: number) => Promise<number>
}

export function createSampler (settings: Settings['agent'], log: Logger): Sampler {
  return new Sampler({
    intervalMs: settings.intervalMs,
    agentVersion: VITALS_VERSION,
    tags: { ...settings.tags },
    hostId: settings.hostId === '' ? undefined : settings.hostId,
    logger: log
  })
}

/**
 * The agent: samples this machine on the wall-clock grid and publishes every sample. Sampling
 * goes on while Kafka is away; the publisher holds the samples until it is back.
 */
export async function startAgent (settings: Settings, log: Logger,
  onSample?: (event: SampleEvent) => void): Promise<AgentHandle> {
  const connection = kafkaConnection(settings.kafka, 'agent')
  // Kafka may be down for now: sampling starts regardless, and the publisher retries sends
  // until the topic exists.
  const topicsChecked = ensureTopics(connection, [
    { name: settings.kafka.topic, partitions: settings.kafka.partitions },
    { name: settings.kafka.deadLetterTopic, partitions: 1 }
  ], log).catch((error: Error) => {
    log.warn({ error: kafkaErrorCause(error) }, 'could not check the topics; sampling anyway')
  })

  const publisher = new Publisher({
    connection,
    topic: settings.kafka.topic,
    partition: settings.agent.partition,
    compression: settings.agent.compression,
    bufferMaxSamples: settings.agent.bufferMaxSamples,
    log
  })
  publisher.start()

  const sampler = createSampler(settings.agent, log)
  const identity = await sampler.identity()
  log.info({ host: identity.host.id, hostname: identity.host.name, intervalMs: settings.agent.intervalMs,
    topic: settings.kafka.topic, partition: settings.agent.partition }, 'agent started')

  const abort = new AbortController()
  const sampling = runSampler(sampler, {
    intervalMs: settings.agent.intervalMs,
    signal: abort.signal,
    logger: log,
    onSample: (event) => {
      publisher.publish(event)
      onSample?.(event)
    }
  })

  return {
    publisher,
    sampler,
    stop: async (timeoutMs = 10_000) => {
      abort.abort()
      await sampling
      await topicsChecked
      const undelivered = await publisher.stop(timeoutMs)
      log.info({ sent: publisher.telemetry.get('samples_sent'), undelivered }, 'agent stopped')
      return undelivered
    }
  }
}
