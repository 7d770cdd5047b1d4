import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Admin, Consumer } from '@platformatic/kafka'
import { Publisher } from '../../src/agent/publisher.ts'
import { createFleet } from '../../src/agent/simulate.ts'
import { kafkaConnection } from '../../src/kafka/options.ts'
import { componentLogger } from '../../src/log.ts'
import { eventually, isolatedSettings } from '../helpers/stack.ts'

const log = componentLogger('test')

describe('agent publisher', { timeout: 90_000 }, () => {
  it('should keep the newest samples while Kafka refuses them, drop and count the oldest, ' +
    'and deliver the kept ones in order once it accepts them', async () => {
    // A topic that does not exist yet (auto-creation is off): every send fails until it does.
    const settings = await isolatedSettings()
    const publisher = new Publisher({
      connection: kafkaConnection(settings.kafka, 'test'), topic: settings.kafka.topic,
      partition: -1, compression: 'gzip', bufferMaxSamples: 3, log
    })
    publisher.start()
    const host = createFleet(1, { seed: 11, intervalMs: 10_000 })[0]
    const start = Date.now() - 60_000
    for (let i = 0; i < 5; i++) publisher.publish(host.sample(start + i * 10_000))

    assert.equal(publisher.telemetry.get('samples_dropped'), 2)
    assert.equal(publisher.buffered, 3)
    assert.ok(await eventually(async () => publisher.telemetry.get('kafka_unreachable') === 1, 20_000))
    assert.equal(publisher.buffered, 3, 'nothing should be delivered while the topic is missing')

    const admin = new Admin({ clientId: 'test-admin', bootstrapBrokers: settings.kafka.brokers })
    await admin.createTopics({ topics: [settings.kafka.topic], partitions: 1, replicas: -1 })
    await admin.close()
    assert.ok(await eventually(async () => publisher.buffered === 0, 45_000), 'delivered once the topic exists')
    assert.equal(await publisher.stop(), 0)

    const consumer = new Consumer({ groupId: `${settings.ingest.groupId}-check`, clientId: 'test-check',
      bootstrapBrokers: settings.kafka.brokers })
    const stream = await consumer.consume({ topics: [settings.kafka.topic], mode: 'earliest' })
    const seqs: number[] = []
    for await (const message of stream) {
      seqs.push((JSON.parse(message.value.toString()) as { seq: number }).seq)
      if (seqs.length === 3) break
    }
    await stream.close()
    await consumer.close(true)
    assert.deepEqual(seqs, [2, 3, 4], 'the three newest, in order')
  })
})
