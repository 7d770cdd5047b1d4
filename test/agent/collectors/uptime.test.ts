import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  createUptimeCollector, parseBootTime, parseUptime
} from '../../../src/agent/collectors/uptime/index.ts'
import { fixtureReader, memoryReader } from '../helpers.ts'

test('the uptime collector should read a real uptime and btime as ms', async () => {
  // /proc/uptime: 268.86 410.36; /proc/stat: btime 1796322162
  assert.deepEqual(await createUptimeCollector(fixtureReader('debian12-vm')).collect(),
    { uptimeSeconds: 268.86, bootTime: 1796322162 * 1000 })
})

test('the uptime collector should read /proc/stat for the boot time only once', async () => {
  const reader = memoryReader({ '/proc/uptime': '10.00 5.00\n', '/proc/stat': 'btime 100\n' })
  const reads: string[] = []
  const counting = {
    ...reader,
    readFile: (path: string) => { reads.push(path); return reader.readFile(path) }
  }
  const collector = createUptimeCollector(counting)

  await collector.collect()
  reader.files['/proc/uptime'] = '20.00 9.00\n'
  assert.deepEqual(await collector.collect(), { uptimeSeconds: 20, bootTime: 100_000 })
  assert.deepEqual(reads.filter((path) => path === '/proc/stat').length, 1)
})

test('parseUptime should reject text that is not a number of seconds', () => {
  assert.throws(() => parseUptime('up 3 days\n'), /unexpected \/proc\/uptime/)
})

test('parseBootTime should reject a /proc/stat without btime', () => {
  assert.throws(() => parseBootTime('cpu  1 2 3 4\n'), /no btime/)
})
