import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Value } from '@sinclair/typebox/value'
import { EventV1, type SampleEvent } from '../../src/event/schema.ts'
import { ConfigError } from '../../src/errors.ts'
import { nextTick, runSampler, Sampler } from '../../src/agent/sampler.ts'
import type { Collector, OsReader } from '../../src/agent/collectors/index.ts'
import { fixtureReader, silentLogger } from './helpers.ts'

function assertValid (event: SampleEvent): void {
  const errors = [...Value.Errors(EventV1, event)].map((error) => `${error.path}: ${error.message}`)
  assert.deepEqual(errors, [])
  assert.ok(Value.Check(EventV1, event))
}

function failingNetDev (reader: OsReader): OsReader {
  return {
    ...reader,
    readFile: async (path) => {
      if (path === '/proc/net/dev') throw new Error('EACCES: permission denied, open /proc/net/dev')
      return reader.readFile(path)
    }
  }
}

const base = { agentVersion: '0.0.0-test', logger: silentLogger }

test('a sample of this machine should be a valid event with every family',
  { skip: process.platform !== 'linux' && 'needs /proc' }, async () => {
    const sampler = new Sampler({ ...base, intervalMs: 10_000, tags: { env: 'test' } })
    await sampler.prime()
    const event = await sampler.sample(Date.now())

    assertValid(event)
    assert.deepEqual(event.failures, [])
    for (const family of ['cpu', 'memory', 'filesystems', 'network', 'uptime'] as const) {
      assert.ok(event[family] !== undefined, `${family} should be present`)
    }
    assert.ok((event.filesystems ?? []).some((fs) => fs.mount === '/'))
    assert.ok((event.network ?? []).some((nic) => nic.name === 'lo' && nic.perSecond !== null))
    assert.deepEqual(event.host.tags, { env: 'test' })
  })

test('seq should count samples from 0 while agentStartedAt stays', async () => {
  const sampler = new Sampler({
    ...base, intervalMs: 1000, reader: fixtureReader('debian12-vm'), now: () => 1_700_000_000_000
  })

  const events = [await sampler.sample(2_000), await sampler.sample(3_000),
    await sampler.sample(4_000)]
  assert.deepEqual(events.map((event) => event.seq), [0, 1, 2])
  assert.deepEqual(events.map((event) => event.time), [2_000, 3_000, 4_000])
  assert.ok(events.every((event) => event.agentStartedAt === 1_700_000_000_000))
  events.forEach(assertValid)
})

test('an event of a recorded machine should carry its identity and boot id', async () => {
  const sampler = new Sampler({ ...base, intervalMs: 1000, reader: fixtureReader('debian12-vm') })
  const event = await sampler.sample(1_000)

  assert.equal(event.version, 1)
  assert.equal(event.host.id, '3d1219c7c4c5404aaa1f6d2a48adfda4')
  assert.equal(event.bootId, '05da1a04-36ff-4869-abea-0034cdd053c1')
  assert.equal(event.intervalMs, 1000)
  assert.equal(event.memory?.totalBytes, 24683664 * 1024)
})

test('a failing collector should leave its family out and name it, the others present',
  async () => {
    const sampler = new Sampler({
      ...base, intervalMs: 1000, reader: failingNetDev(fixtureReader('debian12-vm'))
    })
    const event = await sampler.sample(1_000)

    assert.equal('network' in event, false)
    assert.deepEqual(event.failures,
      [{ family: 'network', error: 'EACCES: permission denied, open /proc/net/dev' }])
    assert.ok(event.cpu && event.memory && event.filesystems && event.uptime)
    assertValid(event)
  })

test('a hanging collector should be cut off by the timeout, the sample still delivered',
  async () => {
    const hanging: Collector<'memory'> = { family: 'memory', collect: () => new Promise(() => {}) }
    const sampler = new Sampler({
      ...base,
      intervalMs: 1000,
      collectTimeoutMs: 50,
      reader: fixtureReader('debian12-vm'),
      collectors: { memory: hanging }
    })

    const started = performance.now()
    const first = await sampler.sample(1_000)
    assert.ok(performance.now() - started < 500, 'the sample should not wait for the collector')
    assert.deepEqual(first.failures,
      [{ family: 'memory', error: 'memory collector timed out after 50 ms' }])
    assert.ok(first.cpu !== undefined)

    // The hung call is not started again on top of itself.
    const second = await sampler.sample(2_000)
    assert.match(second.failures[0]?.error ?? '', /still busy/)
    assertValid(second)
  })

test('a collector that recovers should be back in the next event', async () => {
  let fail = true
  const flaky: Collector<'uptime'> = {
    family: 'uptime',
    collect: async () => {
      if (fail) throw new Error('flaky')
      return { uptimeSeconds: 1, bootTime: 0 }
    }
  }
  const sampler = new Sampler({
    ...base, intervalMs: 1000, reader: fixtureReader('debian12-vm'), collectors: { uptime: flaky }
  })

  assert.equal((await sampler.sample(1_000)).uptime, undefined)
  fail = false
  const event = await sampler.sample(2_000)
  assert.deepEqual(event.uptime, { uptimeSeconds: 1, bootTime: 0 })
  assert.deepEqual(event.failures, [])
})

test('sample should reject when the host identity cannot be read', async () => {
  const reader = fixtureReader('debian12-vm')
  const sampler = new Sampler({
    ...base,
    intervalMs: 1000,
    reader: {
      ...reader,
      readFile: (path) => path === '/proc/sys/kernel/hostname'
        ? Promise.reject(new Error('no hostname'))
        : reader.readFile(path)
    }
  })
  await assert.rejects(sampler.sample(1_000), /no hostname/)
})

test('the Sampler should refuse settings the event schema would reject', () => {
  assert.throws(() => new Sampler({ ...base, intervalMs: 0 }), ConfigError)
  assert.throws(() => new Sampler({ ...base, intervalMs: 1000, collectTimeoutMs: 1000 }),
    ConfigError)
  const tags = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`t${i}`, 'x']))
  assert.throws(() => new Sampler({ ...base, intervalMs: 1000, tags }), /at most 64 tags/)
})

test('nextTick should give the next multiple of the interval on the wall clock', () => {
  assert.equal(nextTick(1_000_500, 1_000), 1_001_000)
  assert.equal(nextTick(1_001_000, 1_000), 1_002_000)
  assert.equal(nextTick(1_700_000_004_321, 10_000), 1_700_000_010_000)
  assert.equal(nextTick(59_999, 60_000), 60_000)
})

test('runSampler should sample on aligned ticks, one at a time, until aborted', async () => {
  let running = 0
  let overlapped = false
  const slow: Collector<'uptime'> = {
    family: 'uptime',
    collect: async () => {
      running++
      overlapped ||= running > 1
      await new Promise((resolve) => setTimeout(resolve, 10))
      running--
      return { uptimeSeconds: 1, bootTime: 0 }
    }
  }
  const sampler = new Sampler({
    ...base, intervalMs: 50, reader: fixtureReader('debian12-vm'), collectors: { uptime: slow }
  })
  const abort = new AbortController()
  const events: SampleEvent[] = []

  await runSampler(sampler, {
    intervalMs: 50,
    signal: abort.signal,
    logger: silentLogger,
    onSample: async (event) => {
      events.push(event)
      // The second sample's handler is slower than a tick: the next tick must be skipped.
      if (events.length === 2) await new Promise((resolve) => setTimeout(resolve, 80))
      if (events.length === 4) abort.abort()
    }
  })

  assert.equal(events.length, 4)
  assert.equal(overlapped, false)
  assert.deepEqual(events.map((event) => event.seq), [0, 1, 2, 3])
  assert.ok(events.every((event) => event.time % 50 === 0), 'times should be on the 50 ms grid')
  const gaps = events.slice(1).map((event, i) => event.time - (events[i] as SampleEvent).time)
  assert.ok(gaps.every((gap) => gap >= 50), `gaps ${gaps.join(', ')} should be whole ticks`)
  assert.ok((gaps[1] ?? 0) >= 100, `a late sample should skip a tick, gaps ${gaps.join(', ')}`)
})

test('runSampler should return at once when the signal is already aborted', async () => {
  const sampler = new Sampler({ ...base, intervalMs: 50, reader: fixtureReader('debian12-vm') })
  let samples = 0
  await runSampler(sampler, {
    intervalMs: 50, signal: AbortSignal.abort(), logger: silentLogger, onSample: () => { samples++ }
  })
  assert.equal(samples, 0)
})
