import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  cpuTimes, createCpuCollector, parseLoadavg, parseProcStat, type CpuCounters
} from '../../../src/agent/collectors/cpu/index.ts'
import type { CpuTimes } from '../../../src/event/schema.ts'
import { fixtureRoot, memoryReader } from '../helpers.ts'

const readFixture = (machine: string, path: string) =>
  readFile(join(fixtureRoot(machine), path), 'utf8')

const percent = (ticks: number, total: number) => Math.round(ticks / total * 10_000) / 100

function counters (values: Partial<CpuCounters>): CpuCounters {
  return {
    user: 0, nice: 0, system: 0, idle: 0, iowait: 0,
    irq: 0, softirq: 0, steal: 0, guest: 0, guestNice: 0, ...values
  }
}

function assertShares (times: CpuTimes): void {
  for (const [name, value] of Object.entries(times)) {
    assert.ok(value >= 0 && value <= 100, `${name} = ${value} should be within 0..100`)
  }
}

test('parseProcStat should read the total, every core and btime of a real /proc/stat', async () => {
  const stat = parseProcStat(await readFixture('debian12-vm', 'proc/stat'))

  // cpu  7149 0 3152 41036 1665 0 121 349 0 0
  assert.deepEqual(stat.total, counters({
    user: 7149, system: 3152, idle: 41036, iowait: 1665, softirq: 121, steal: 349
  }))
  assert.deepEqual(stat.cores.map((core) => core.id), [0, 1])
  // cpu1 4459 0 1928 18779 1277 0 107 184 0 0
  assert.equal(stat.cores[1]?.counters.iowait, 1277)
  assert.equal(stat.cores[1]?.counters.steal, 184)
  assert.equal(stat.bootTime, 1796322162)
})

test('parseProcStat should read the 7 columns of a 2.6.9 kernel with the rest as 0', async () => {
  const stat = parseProcStat(await readFixture('rhel4-kernel-2.6.9', 'proc/stat'))

  // cpu  1326540 3920 482103 98137522 211204 9731 41872
  assert.deepEqual(stat.total, counters({
    user: 1326540, nice: 3920, system: 482103, idle: 98137522, iowait: 211204, irq: 9731,
    softirq: 41872
  }))
  assert.equal(stat.cores.length, 2)
})

test('parseProcStat should read the 4 columns of a 2.4 kernel with the rest as 0', () => {
  const stat = parseProcStat('cpu  100 0 50 850\ncpu0 100 0 50 850\nbtime 1000\n')

  assert.deepEqual(stat.total, counters({ user: 100, system: 50, idle: 850 }))
  assert.deepEqual(cpuTimes(stat.total), {
    user: 10, nice: 0, system: 5, idle: 85, iowait: 0, irq: 0, softirq: 0, steal: 0,
    guest: 0, guestNice: 0, busy: 15
  })
})

test('parseProcStat should keep the numbers of cores when one is offline', () => {
  const stat = parseProcStat('cpu  2 0 0 2\ncpu0 1 0 0 1\ncpu2 1 0 0 1\n')
  assert.deepEqual(stat.cores.map((core) => core.id), [0, 2])
})

test('parseProcStat should reject text without a cpu line', () => {
  assert.throws(() => parseProcStat('intr 1 2 3\nbtime 1\n'), /no cpu line/)
})

test('parseLoadavg should read the three load averages of a real /proc/loadavg', async () => {
  // 0.42 0.37 0.16 1/89 4935
  assert.deepEqual(parseLoadavg(await readFixture('debian12-vm', 'proc/loadavg')),
    { load1: 0.42, load5: 0.37, load15: 0.16 })
})

test('cpuTimes should give shares of the ticks between two real readings', async () => {
  const before = parseProcStat(await readFixture('debian12-vm', 'proc/stat'))
  const after = parseProcStat(await readFixture('debian12-vm-later', 'proc/stat'))

  // cpu 7149 0 3152 41036 1665 0 121 349 → 7160 0 3157 41844 1665 0 123 350: 827 ticks in all
  const total = 11 + 5 + 808 + 2 + 1
  assert.deepEqual(cpuTimes(after.total, before.total), {
    user: percent(11, total),
    nice: 0,
    system: percent(5, total),
    idle: percent(808, total),
    iowait: 0,
    irq: 0,
    softirq: percent(2, total),
    steal: percent(1, total),
    guest: 0,
    guestNice: 0,
    busy: percent(total - 808, total)
  })
})

test('cpuTimes should not count guest time twice, as the kernel includes it in user', () => {
  const previous = counters({})
  // 100 ticks of user, 40 of which ran a guest, and 100 idle: half the time was busy.
  const times = cpuTimes(counters({ user: 100, guest: 40, nice: 10, guestNice: 10, idle: 90 }),
    previous)

  assert.equal(times.user, 50)
  assert.equal(times.guest, 20)
  assert.equal(times.nice, 5)
  assert.equal(times.guestNice, 5)
  assert.equal(times.idle, 45)
  assert.equal(times.busy, 55)
})

test('cpuTimes should stay within 0..100 when a counter went backwards', () => {
  const times = cpuTimes(
    counters({ user: 1000, system: 500, idle: 9000, iowait: 400 }),
    counters({ user: 900, system: 450, idle: 8800, iowait: 500 })
  )

  assertShares(times)
  assert.equal(times.iowait, 0)
  assert.equal(times.user, percent(100, 350))
  assert.equal(times.busy, percent(150, 350))
})

test('cpuTimes should use the since-boot shares when no tick elapsed between readings', () => {
  const reading = counters({ user: 30, idle: 70 })
  assert.equal(cpuTimes(reading, reading).idle, 70)
})

test('cpuTimes should give zeros, not NaN, for a core with no ticks at all', () => {
  const times = cpuTimes(counters({}))
  assert.ok(Object.values(times).every((value) => value === 0))
})

test('the cpu collector should report since-boot shares first, then the interval', async () => {
  const reader = memoryReader({
    '/proc/stat': await readFixture('debian12-vm', 'proc/stat'),
    '/proc/loadavg': await readFixture('debian12-vm', 'proc/loadavg')
  })
  const collector = createCpuCollector(reader)

  const first = await collector.collect()
  // since boot: 7149 user ticks of 53472
  assert.equal(first.total.user, percent(7149, 53472))
  assert.equal(first.cores, 2)
  assert.equal(first.perCore.length, 2)
  assert.equal(first.load1, 0.42)

  reader.files['/proc/stat'] = await readFixture('debian12-vm-later', 'proc/stat')
  const second = await collector.collect()
  assert.equal(second.total.user, percent(11, 827))
  // cpu0 2690 0 1223 22256 388 0 14 164 → 2696 0 1226 22659 388 0 15 166
  assert.equal(second.perCore[0]?.idle, percent(403, 6 + 3 + 403 + 1 + 2))
})

test('the cpu collector should survive cores going offline and coming online', async () => {
  const reader = memoryReader({
    '/proc/stat': 'cpu  200 0 0 200\ncpu0 100 0 0 100\ncpu1 100 0 0 100\n',
    '/proc/loadavg': '0.00 0.00 0.00 1/1 1\n'
  })
  const collector = createCpuCollector(reader)
  await collector.collect()

  // cpu1 went offline: the total, a sum over online cores, dropped.
  reader.files['/proc/stat'] = 'cpu  150 0 0 160\ncpu0 150 0 0 160\n'
  const offline = await collector.collect()
  assert.equal(offline.cores, 1)
  assert.equal(offline.perCore.length, 1)
  assertShares(offline.total)
  assertShares(offline.perCore[0] as CpuTimes)

  // cpu1 is back and cpu2 is new: each is compared with nothing, so since-boot shares.
  reader.files['/proc/stat'] =
    'cpu  400 0 0 400\ncpu0 160 0 0 240\ncpu1 120 0 0 80\ncpu2 120 0 0 80\n'
  const online = await collector.collect()
  assert.equal(online.cores, 3)
  assert.equal(online.perCore[0]?.user, percent(10, 90))
  assert.equal(online.perCore[1]?.user, 60)
  assert.equal(online.perCore[2]?.user, 60)
  for (const times of [online.total, ...online.perCore]) assertShares(times)
})

test('the cpu collector should fail when /proc/loadavg cannot be read', async () => {
  const collector = createCpuCollector(memoryReader({ '/proc/stat': 'cpu  1 0 0 1\n' }))
  await assert.rejects(collector.collect(), /ENOENT/)
})
