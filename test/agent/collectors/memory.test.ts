import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  createMemoryCollector, memoryFromMeminfo, parseMeminfo
} from '../../../src/agent/collectors/memory/index.ts'
import { fixtureReader, memoryReader } from '../helpers.ts'

const KiB = 1024

test('parseMeminfo should turn kB into bytes and keep unitless counts as they are', async () => {
  const meminfo = parseMeminfo(await fixtureReader('debian12-vm').readFile('/proc/meminfo'))

  assert.equal(meminfo.MemTotal, 24683664 * KiB)
  assert.equal(meminfo['Active(anon)'], 1520 * KiB)
  assert.equal(meminfo.VmallocTotal, 34359738367 * KiB)
  assert.equal(meminfo.HugePages_Total, 0)
  assert.equal(meminfo.Hugepagesize, 2048 * KiB)
})

test('the memory collector should report a real meminfo as free(1) would', async () => {
  const memory = await createMemoryCollector(fixtureReader('debian12-vm')).collect()

  assert.deepEqual(memory, {
    totalBytes: 24683664 * KiB,
    availableBytes: 24311320 * KiB,
    usedBytes: (24683664 - 24311320) * KiB,
    freeBytes: 23759316 * KiB,
    buffersBytes: 21196 * KiB,
    // Cached plus SReclaimable
    cachedBytes: (702296 + 98748) * KiB,
    swapTotalBytes: 0,
    swapFreeBytes: 0,
    swapUsedBytes: 0
  })
})

test('without MemAvailable (2.6.9) available should be free + buffers + cached', async () => {
  const memory = await createMemoryCollector(fixtureReader('rhel4-kernel-2.6.9')).collect()

  const available = (127384 + 203528 + 1288416) * KiB
  assert.equal(memory.availableBytes, available)
  assert.equal(memory.usedBytes, 2055108 * KiB - available)
  assert.equal(memory.swapUsedBytes, (2096472 - 2096200) * KiB)
})

test('without MemAvailable (3.2) the estimate should count reclaimable slab as cache', async () => {
  const memory = await createMemoryCollector(fixtureReader('ubuntu1204-kernel-3.2')).collect()

  assert.equal(memory.cachedBytes, (2417468 + 263992) * KiB)
  assert.equal(memory.availableBytes, (303408 + 180624 + 2417468 + 263992) * KiB)
})

test('available should never exceed total, so used is never negative', () => {
  const memory = memoryFromMeminfo(parseMeminfo(
    'MemTotal: 1000 kB\nMemFree: 600 kB\nBuffers: 300 kB\nCached: 400 kB\n'))

  assert.equal(memory.availableBytes, 1000 * KiB)
  assert.equal(memory.usedBytes, 0)
})

test('the memory collector should fail on a meminfo without MemTotal', async () => {
  const collector = createMemoryCollector(memoryReader({ '/proc/meminfo': 'MemFree: 1 kB\n' }))
  await assert.rejects(collector.collect(), /no MemTotal/)
})
