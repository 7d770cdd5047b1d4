import { Admin } from '@platformatic/kafka'
import type { Logger } from '../log.ts'
import type { KafkaConnection } from './options.ts'

export interface TopicSpec {
  name: string
  partitions: number
}

/** Creates the topics that do not exist yet; existing ones are left as they are. */
export async function ensureTopics (connection: KafkaConnection, topics: TopicSpec[],
  log: Logger): Promise<string[]> {
  const admin = new Admin({ ...connection, clientId: `${connection.clientId}-admin` })
  try {
    const existing = new Set(await admin.listTopics())
    const created: string[] = []
    for (const topic of topics) {
      if (existing.has(topic.name)) {
        continue
      }
      try {
        await admin.createTopics({ topics: [topic.name], partitions: topic.partitions, replicas: -1 })
        created.push(topic.name)
        log.info({ topic: topic.name, partitions: topic.partitions }, 'topic created')
      } catch (error) {
        // Another process may have created it between the listing and the request.
        if (!alreadyExists(error)) {
          throw error
        }
      }
    }
    return created
  } finally {
    await admin.close()
  }
}

function alreadyExists (error: unknown): boolean {
  const causes = (error as { errors?: Array<{ apiId?: string }> }).errors ?? []
  return causes.length > 0 && causes.every((cause) => cause.apiId === 'TOPIC_ALREADY_EXISTS')
}
