import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Consumer } from '@platformatic/kafka'
import type { Settings } from '../../src/config/index.ts'
import type { SampleEvent } from '../../src/event/index.ts'
import { envFor, runVitals } from '../helpers/cli.ts'
import { isolatedSettings } from '../helpers/stack.ts'

interface Received {
  partition: number
  host: string
  seq: number
}

/** Reads `count` messages of the settings' topic from the start. */
async function readTopic (settings: Settings, count: number): Promise<Received[]> {
  const consumer = new Consumer({
    groupId: `${settings.ingest.groupId}-check`, clientId: 'test-simulate-check',
    bootstrapBrokers: settings.kafka.brokers
  })
  const received: Received[] = []
  try {
    const stream = await consumer.consume({ topics: [settings.kafka.topic], mode: 'earliest' })
    const timer = setTimeout(() => { void stream.close() }, 30_000)
    for await (const message of stream) {
      const event = JSON.parse(message.value.toString()) as SampleEvent
      assert.equal(message.key.toString(), event.host.id, 'every message is keyed by its host')
      received.push({ partition: message.partition, host: event.host.id, seq: event.seq })
      if (received.length === count) break
    }
    clearTimeout(timer)
    await stream.close()
  } finally {
    await consumer.close(true)
  }
  return received
}

describe('vitals agent --simulate', { timeout: 120_000 }, () => {
  const hosts = 4
  const samples = 3

  const simulate = async (extra: string[]) => {
    const settings = await isolatedSettings()
    const run = await runVitals(['agent', '--simulate', String(hosts), '--samples', String(samples),
      '--set', 'kafka.partitions=3', ...extra], envFor(settings))
    assert.equal(run.code, 0, run.stderr)
    const received = await readTopic(settings, hosts * samples)
    assert.equal(received.length, hosts * samples, 'every simulated sample should be on the topic')
    for (const host of new Set(received.map((message) => message.host))) {
      assert.deepEqual(received.filter((message) => message.host === host).map((message) => message.seq),
        [...Array(samples).keys()], `${host}: its samples in order`)
    }
    assert.equal(new Set(received.map((message) => message.host)).size, hosts)
    return received
  }

  it('should publish N hosts × K samples, each host on one partition the key chose', async () => {
    const received = await simulate([])
    const partitionOf = new Map<string, Set<number>>()
    for (const message of received) {
      partitionOf.set(message.host, (partitionOf.get(message.host) ?? new Set()).add(message.partition))
    }
    for (const [host, partitions] of partitionOf) assert.equal(partitions.size, 1, host)
  })

  it('--partition should put every host on that partition', async () => {
    const received = await simulate(['--partition', '2'])
    assert.deepEqual([...new Set(received.map((message) => message.partition))], [2])
  })
})
