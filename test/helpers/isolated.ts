import { randomBytes } from 'node:crypto'
import { defaultSettings, type Settings } from '../../src/config/index.ts'
import type { StackState } from '../../src/stack/index.ts'

/**
 * Settings pointing at a running stack, with a topic, database and consumer group of their
 * own, so tests and benchmarks sharing one stack never see each other's data.
 */
export function isolatedSettingsFor (state: StackState, prefix: string): Settings {
  const suffix = randomBytes(4).toString('hex')
  const settings = defaultSettings()
  settings.kafka.brokers = [state.kafka.bootstrap]
  settings.kafka.topic = `${prefix}-${suffix}`
  settings.kafka.deadLetterTopic = `${prefix}-${suffix}-dlq`
  settings.kafka.partitions = 3
  settings.clickhouse.url = state.clickhouse.url
  settings.clickhouse.user = state.clickhouse.user
  settings.clickhouse.password = state.clickhouse.password
  settings.clickhouse.database = `${prefix.replaceAll('-', '_')}_${suffix}`
  settings.ingest.groupId = `${prefix}-${suffix}`
  return settings
}
