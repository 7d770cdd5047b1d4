import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  createNetworkCollector, parseNetDev
} from '../../../src/agent/collectors/network/index.ts'
import { fixtureReader, manualClock, memoryReader } from '../helpers.ts'

const header = [
  'Inter-|   Receive                                                |  Transmit',
  ' face |bytes    packets errs drop fifo frame compressed multicast|' +
    'bytes    packets errs drop fifo colls carrier compressed'
]

/** /proc/net/dev text with one line per [name, rxBytes, rxPackets, txBytes, txPackets]. */
function netDev (...rows: Array<[string, number, number, number, number]>): string {
  const lines = rows.map(([name, rxBytes, rxPackets, txBytes, txPackets]) =>
    `${name.padStart(6)}: ${rxBytes} ${rxPackets} 0 0 0 0 0 0 ${txBytes} ${txPackets} 0 0 0 0 0 0`)
  return [...header, ...lines, ''].join('\n')
}

test('parseNetDev should read every interface of a real /proc/net/dev, lo included', async () => {
  const interfaces = parseNetDev(await fixtureReader('debian12-vm').readFile('/proc/net/dev'))

  assert.deepEqual(interfaces.map((nic) => nic.name), ['lo', 'ifb0', 'ifb1', 'eth0'])
  // eth0: 458389814 10162 0 0 0 0 0 0 784699 6738 0 0 0 0 0 0
  assert.deepEqual(interfaces[3], {
    name: 'eth0',
    rxBytes: 458389814,
    rxPackets: 10162,
    rxErrors: 0,
    rxDrops: 0,
    txBytes: 784699,
    txPackets: 6738,
    txErrors: 0,
    txDrops: 0
  })
})

test('parseNetDev should take errs and drop from their own columns', () => {
  const [nic] = parseNetDev(
    'eth0: 1000 10 3 4 5 6 7 8 2000 20 11 12 13 14 15 16\n')
  assert.deepEqual(nic, {
    name: 'eth0', rxBytes: 1000, rxPackets: 10, rxErrors: 3, rxDrops: 4,
    txBytes: 2000, txPackets: 20, txErrors: 11, txDrops: 12
  })
})

test('parseNetDev should read old kernels that print no space after the colon', () => {
  const [nic] = parseNetDev('  eth0:4294967295 10 0 0 0 0 0 0 2000 20 0 0 0 0 0 0\n')
  assert.equal(nic?.name, 'eth0')
  assert.equal(nic?.rxBytes, 4294967295)
})

test('parseNetDev should reject a line with too few counters', () => {
  assert.throws(() => parseNetDev('eth0: 1 2 3\n'), /unexpected \/proc\/net\/dev line/)
})

test('the first reading should have no rates, the next per-second rates on the clock',
  async () => {
    const reader = memoryReader({
      '/proc/net/dev': await fixtureReader('debian12-vm').readFile('/proc/net/dev')
    })
    const clock = manualClock(1_000)
    const collector = createNetworkCollector(reader, clock.now)

    const first = await collector.collect()
    assert.ok(first.every((nic) => nic.perSecond === null))
    assert.equal(first.find((nic) => nic.name === 'eth0')?.rxBytes, 458389814)

    reader.files['/proc/net/dev'] =
      await fixtureReader('debian12-vm-later').readFile('/proc/net/dev')
    clock.advance(4_000)
    const second = await collector.collect()

    // lo: 8129 → 3555837 bytes and 93 → 261 packets, each way, in 4 s
    const lo = second.find((nic) => nic.name === 'lo')
    assert.equal(lo?.perSecond?.rxBytes, (3555837 - 8129) / 4)
    assert.equal(lo?.perSecond?.txPackets, (261 - 93) / 4)
    assert.equal(second.find((nic) => nic.name === 'eth0')?.perSecond?.rxBytes, 0)
  })

test('a counter reset should count as a restart from zero, never a negative rate', async () => {
  const reader = memoryReader({ '/proc/net/dev': netDev(['eth0', 5_000_000, 5000, 800, 8]) })
  const clock = manualClock()
  const collector = createNetworkCollector(reader, clock.now)
  await collector.collect()

  // The driver was reloaded: the counters start again from zero.
  reader.files['/proc/net/dev'] = netDev(['eth0', 2_000, 4, 1_000, 10])
  clock.advance(2_000)
  const [nic] = await collector.collect()

  assert.equal(nic?.rxBytes, 2_000)
  assert.equal(nic?.perSecond?.rxBytes, 1_000)
  assert.equal(nic?.perSecond?.rxPackets, 2)
  assert.equal(nic?.perSecond?.txBytes, 100)
  assert.ok(Object.values(nic?.perSecond ?? {}).every((rate) => rate >= 0))
})

test('a 32-bit counter that wrapped should give the increase since zero', async () => {
  const reader = memoryReader({ '/proc/net/dev': netDev(['eth0', 4_294_967_000, 1, 0, 0]) })
  const clock = manualClock()
  const collector = createNetworkCollector(reader, clock.now)
  await collector.collect()

  reader.files['/proc/net/dev'] = netDev(['eth0', 500, 2, 0, 0])
  clock.advance(1_000)
  const [nic] = await collector.collect()
  assert.equal(nic?.perSecond?.rxBytes, 500)
})

test('an interface that appears should have no rates, one that vanished should be forgotten',
  async () => {
    const reader = memoryReader({
      '/proc/net/dev': netDev(['lo', 100, 1, 100, 1], ['eth0', 1000, 10, 1000, 10])
    })
    const clock = manualClock()
    const collector = createNetworkCollector(reader, clock.now)
    await collector.collect()

    reader.files['/proc/net/dev'] = netDev(['lo', 300, 3, 300, 3], ['wg0', 50, 1, 50, 1])
    clock.advance(1_000)
    const second = await collector.collect()
    assert.deepEqual(second.map((nic) => [nic.name, nic.perSecond?.rxBytes ?? null]),
      [['lo', 200], ['wg0', null]])

    // eth0 comes back with lower counters: it was forgotten, so no rate rather than a wrong one.
    reader.files['/proc/net/dev'] = netDev(['lo', 400, 4, 400, 4], ['eth0', 20, 1, 20, 1])
    clock.advance(1_000)
    const third = await collector.collect()
    assert.deepEqual(third.map((nic) => [nic.name, nic.perSecond?.rxBytes ?? null]),
      [['lo', 100], ['eth0', null]])
  })

test('two readings at the same instant should give no rates instead of dividing by zero',
  async () => {
    const reader = memoryReader({ '/proc/net/dev': netDev(['eth0', 1, 1, 1, 1]) })
    const collector = createNetworkCollector(reader, () => 5)
    await collector.collect()
    const [nic] = await collector.collect()
    assert.equal(nic?.perSecond, null)
  })

test('no more interfaces than the event can hold should be reported', async () => {
  const rows = Array.from({ length: 1500 }, (_, i): [string, number, number, number, number] =>
    [`veth${i}`, i, i, i, i])
  const collector = createNetworkCollector(memoryReader({ '/proc/net/dev': netDev(...rows) }))
  const interfaces = await collector.collect()
  assert.equal(interfaces.length, 1024)
  assert.equal(interfaces[0]?.name, 'veth0')
})
