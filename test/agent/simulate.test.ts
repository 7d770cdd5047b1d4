import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Value } from '@sinclair/typebox/value'
import { EventV1, type SampleEvent } from '../../src/event/schema.ts'
import { createFleet } from '../../src/agent/simulate.ts'

const intervalMs = 10_000
const start = 1_767_225_600_000

function run (seed: number, hosts: number, samples: number): SampleEvent[][] {
  return createFleet(hosts, { seed, intervalMs }).map((host) =>
    Array.from({ length: samples }, (_, i) => host.sample(start + i * intervalMs)))
}

test('every event of a simulated fleet should pass the schema', () => {
  for (const events of run(7, 50, 30)) {
    for (const event of events) {
      const errors = [...Value.Errors(EventV1, event)].slice(0, 3)
        .map((error) => `${event.host.id} seq ${event.seq} ${error.path}: ${error.message}`)
      assert.deepEqual(errors, [])
    }
  }
})

test('the same seed should give the same events, another seed other events', () => {
  assert.deepEqual(run(42, 5, 10), run(42, 5, 10))
  assert.notDeepEqual(run(42, 5, 10), run(43, 5, 10))
})

test('a fleet without a seed should still be reproducible', () => {
  const sample = () => createFleet(3, { intervalMs }).map((host) => host.sample(start))
  assert.deepEqual(sample(), sample())
})

test('simulated hosts should have stable identities within the stated ranges', () => {
  const fleet = createFleet(200, { seed: 1, intervalMs })

  assert.deepEqual(fleet.slice(0, 3).map((host) => host.host.id),
    ['sim-0001', 'sim-0002', 'sim-0003'])
  assert.equal(new Set(fleet.map((host) => host.bootId)).size, 200)
  for (const host of fleet) {
    const first = host.sample(start)
    const second = host.sample(start + intervalMs)
    assert.deepEqual(second.host, first.host)
    assert.ok(first.host.cpuCount >= 2 && first.host.cpuCount <= 64)
    assert.equal(first.cpu?.cores, first.host.cpuCount)
    assert.equal(first.cpu?.perCore.length, first.host.cpuCount)
    const filesystems = first.filesystems?.length ?? 0
    const interfaces = first.network?.length ?? 0
    assert.ok(filesystems >= 1 && filesystems <= 4, `${filesystems} filesystems`)
    assert.ok(interfaces >= 1 && interfaces <= 3, `${interfaces} interfaces`)
  }
  // the ranges are used, not just respected
  const cores = new Set(fleet.map((host) => host.host.cpuCount))
  assert.ok(cores.has(2) && cores.has(64))
})

test('a simulated host should count seq up and only ever grow its network counters', () => {
  const [events] = run(3, 1, 50) as [SampleEvent[]]

  assert.deepEqual(events.map((event) => event.seq), Array.from({ length: 50 }, (_, i) => i))
  assert.ok(events[0]?.network?.every((nic) => nic.perSecond === null))
  for (let i = 1; i < events.length; i++) {
    const before = events[i - 1]?.network ?? []
    for (const [j, nic] of (events[i]?.network ?? []).entries()) {
      assert.ok(nic.perSecond !== null)
      assert.ok(nic.rxBytes >= (before[j]?.rxBytes ?? Infinity), 'rx bytes should not go back')
      assert.equal(nic.rxBytes - (before[j]?.rxBytes ?? 0),
        nic.perSecond.rxBytes * intervalMs / 1000)
    }
  }
})

test('simulated disks should fill over time and CPU should move but stay bounded', () => {
  const [events] = run(11, 1, 360) as [SampleEvent[]]
  const first = events[0] as SampleEvent
  const last = events[events.length - 1] as SampleEvent

  const used = (event: SampleEvent) =>
    (event.filesystems ?? []).reduce((sum, fs) => sum + fs.usedBytes, 0)
  assert.ok(used(last) > used(first), 'an hour later more disk should be used')

  const busy = events.map((event) => event.cpu?.total.busy ?? -1)
  assert.ok(busy.every((value) => value >= 0 && value <= 100))
  assert.ok(new Set(busy).size > 100, 'CPU should vary from sample to sample')
  assert.ok(last.uptime && first.uptime &&
    last.uptime.uptimeSeconds - first.uptime.uptimeSeconds === 359 * intervalMs / 1000)
})
