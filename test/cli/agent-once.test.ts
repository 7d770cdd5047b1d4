import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { totalmem } from 'node:os'
import { describe, it } from 'node:test'
import { Value } from '@sinclair/typebox/value'
import { EventV1, type SampleEvent } from '../../src/event/index.ts'
import { runVitals } from '../helpers/cli.ts'

describe('vitals agent --once', { timeout: 60_000 }, () => {
  let event: SampleEvent

  it('should print one valid event as JSON and exit 0 without Kafka', async () => {
    const run = await runVitals(['agent', '--once'], { VITALS_KAFKA_BROKERS: '127.0.0.1:1' })
    assert.equal(run.code, 0, run.stderr)
    event = JSON.parse(run.stdout) as SampleEvent
    assert.ok(Value.Check(EventV1, event), [...Value.Errors(EventV1, event)].map((e) => e.path).join())
    assert.deepEqual(event.failures, [])
  })

  it('memory total should agree with free(1)', () => {
    const free = execFileSync('free', ['-b'], { encoding: 'utf8' })
    const total = Number(/^Mem:\s+(\d+)/m.exec(free)?.[1])
    assert.equal(event.memory?.totalBytes, total)
    assert.equal(event.memory?.totalBytes, totalmem())
  })

  it('filesystem sizes should agree with df(1)', () => {
    assert.ok((event.filesystems ?? []).length > 0, 'at least one filesystem')
    for (const fs of event.filesystems ?? []) {
      const df = execFileSync('df', ['-B1', '--output=size', fs.mount], { encoding: 'utf8' })
      const size = Number(df.trim().split('\n')[1])
      assert.equal(fs.sizeBytes, size, `size of ${fs.mount}`)
    }
  })

  it('interface counters should agree with /sys/class/net statistics', () => {
    assert.ok((event.network ?? []).length > 0, 'at least one interface')
    for (const nic of event.network ?? []) {
      const path = `/sys/class/net/${nic.name}/statistics/rx_bytes`
      if (!existsSync(path)) continue
      const now = Number(readFileSync(path, 'utf8'))
      // Read later than the sample: equal or a little larger, never smaller.
      assert.ok(now >= nic.rxBytes && now - nic.rxBytes < 1e9, `${nic.name}: ${nic.rxBytes} vs ${now}`)
    }
  })

  it('boot time should agree with uptime -s within two seconds', () => {
    const since = execFileSync('uptime', ['-s'], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } }).trim()
    const bootMs = Date.parse(`${since.replace(' ', 'T')}Z`)
    assert.ok(Math.abs((event.uptime?.bootTime ?? 0) - bootMs) <= 2000,
      `${event.uptime?.bootTime} vs ${bootMs} (${since})`)
  })
})
