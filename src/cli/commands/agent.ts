import { setTimeout as sleep } from 'node:timers/promises'
import { parseCommand, parseCount, parseDuration, settingsFrom, settingsOptions } from '../args.ts'
import { resolveEndpoints } from '../endpoints.ts'
import { untilSignal } from '../lifecycle.ts'
import { createSampler, startAgent } from '../../agent/agent.ts'
import { Publisher } from '../../agent/publisher.ts'
import { nextTick } from '../../agent/sampler.ts'
import { createFleet } from '../../agent/simulate.ts'
import type { Settings } from '../../config/index.ts'
import { kafkaConnection } from '../../kafka/options.ts'
import { ensureTopics } from '../../kafka/topics.ts'
import type { Logger } from '../../log.ts'

export const usage = `vitals agent [--once] [--interval 10s] [--partition N] [--simulate N [--samples K]]

Samples this machine on a fixed interval aligned to the wall clock and publishes each sample
to Kafka, keyed by host id (or to one explicit partition with --partition).
  --once          print one sample as JSON and exit; needs no Kafka
  --simulate N    publish samples of N simulated hosts instead of this machine
  --samples K     with --simulate: publish K samples per host as fast as possible, then exit`

const agentOptions = {
  ...settingsOptions,
  once: { type: 'boolean' },
  interval: { type: 'string' },
  partition: { type: 'string' },
  simulate: { type: 'string' },
  samples: { type: 'string' },
  seed: { type: 'string' }
} as const

export async function agentCommand (argv: string[], log: Logger): Promise<number> {
  const { values } = parseCommand('agent', argv, agentOptions)
  const extra: string[] = []
  if (values.interval !== undefined) {
    extra.push(`agent.intervalMs=${parseDuration('--interval', values.interval)}`)
  }
  if (values.partition !== undefined) {
    extra.push(`agent.partition=${parseCount('--partition', values.partition, 0, 8191)}`)
  }
  const settings = settingsFrom(values, extra)

  if (values.once === true) {
    return await sampleOnce(settings, log)
  }

  const { settings: resolved } = await resolveEndpoints(settings, log, { start: false, needs: { kafka: true, clickhouse: false } })
  if (values.simulate !== undefined) {
    const hosts = parseCount('--simulate', values.simulate, 1, 100_000)
    const samples = values.samples === undefined ? undefined
      : parseCount('--samples', values.samples, 1, 1_000_000)
    const seed = values.seed === undefined ? 1 : parseCount('--seed', values.seed, 0, 2 ** 31)
    return await simulate(resolved, log, hosts, samples, seed)
  }

  const stopping = untilSignal(log)
  const agent = await startAgent(resolved, log)
  await stopping
  const undelivered = await agent.stop()
  return undelivered === 0 ? 0 : 1
}

/** One sample after a one-second priming interval, so CPU and network rates are meaningful. */
async function sampleOnce (settings: Settings, log: Logger): Promise<number> {
  const sampler = createSampler(settings.agent, log)
  await sampler.prime()
  await sleep(Math.min(1000, settings.agent.intervalMs))
  const event = await sampler.sample(Date.now())
  process.stdout.write(`${JSON.stringify(event, null, 2)}\n`)
  return event.failures.length === 0 ? 0 : 1
}

/**
 * A simulated fleet. With `samples`, each host's samples are back-dated one interval apart and
 * published at once (to fill a topic for a benchmark); without, they follow the wall clock.
 */
async function simulate (settings: Settings, log: Logger, hosts: number, samples: number | undefined,
  seed: number): Promise<number> {
  const connection = kafkaConnection(settings.kafka, 'simulator')
  await ensureTopics(connection, [{ name: settings.kafka.topic, partitions: settings.kafka.partitions }], log)
  const fleet = createFleet(hosts, { seed, intervalMs: settings.agent.intervalMs })
  const publisher = new Publisher({
    connection,
    topic: settings.kafka.topic,
    partition: settings.agent.partition,
    compression: settings.agent.compression,
    bufferMaxSamples: Math.max(settings.agent.bufferMaxSamples, hosts * 2 * (samples ?? 1)),
    log
  })
  publisher.start()

  if (samples !== undefined) {
    const interval = settings.agent.intervalMs
    const first = nextTick(Date.now(), interval) - samples * interval
    for (let round = 0; round < samples; round++) {
      for (const host of fleet) {
        publisher.publish(host.sample(first + round * interval))
      }
      // Let the publisher drain between rounds so the buffer stays small.
      while (publisher.buffered > hosts * 4) {
        await sleep(5)
      }
    }
    const undelivered = await publisher.stop(120_000)
    log.info({ hosts, samples, published: hosts * samples - undelivered }, 'simulated fleet published')
    return undelivered === 0 ? 0 : 1
  }

  const stopping = untilSignal(log)
  let stopped = false
  void stopping.then(() => { stopped = true })
  while (!stopped) {
    const tick = nextTick(Date.now(), settings.agent.intervalMs)
    await Promise.race([sleep(tick - Date.now()), stopping])
    if (stopped) break
    for (const host of fleet) {
      publisher.publish(host.sample(tick))
    }
  }
  return (await publisher.stop()) === 0 ? 0 : 1
}
