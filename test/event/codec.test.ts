import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createFleet } from '../../src/agent/simulate.ts'
import { decodeEvent, encodeEvent, RejectReasons, type DecodeLimits, type Decoded,
  type RejectReason, type SampleEvent } from '../../src/event/index.ts'

const intervalMs = 10_000
const start = 1_767_225_600_000
const limits: DecodeLimits = {
  maxMessageBytes: 1024 * 1024,
  maxClockSkewMs: 5 * 60_000,
  maxSampleAgeMs: 30 * 86_400_000
}

/** A fresh, valid event: the second sample of a simulated host, so network rates are set. */
function validEvent (): SampleEvent {
  const [host] = createFleet(1, { seed: 5, intervalMs })
  host.sample(start)
  return host.sample(start + intervalMs)
}

const now = start + intervalMs + 1500
const text = (value: unknown) => Buffer.from(JSON.stringify(value))
const decode = (value: Buffer | undefined | null, key: Buffer | undefined | null = null,
  at = now, within = limits) => decodeEvent(value, key, within, at)

function rejected (result: Decoded, reason: RejectReason): string {
  assert.equal(result.ok, false, `expected ${reason}, but the message decoded`)
  if (result.ok) throw new Error('unreachable')
  assert.equal(result.reason, reason, result.detail)
  assert.ok(result.detail.length > 0, 'a rejection should say why')
  assert.ok(result.detail.length <= 1000, `detail of ${result.detail.length} characters`)
  return result.detail
}

/** The valid event with one change made to its JSON form. */
function changed (change: (event: Record<string, any>) => void): Buffer {
  const event = JSON.parse(JSON.stringify(validEvent())) as Record<string, any>
  change(event)
  return text(event)
}

describe('decodeEvent', () => {
  it('a simulated event should decode to the same event', () => {
    const event = validEvent()
    const result = decode(encodeEvent(event), Buffer.from(event.host.id))
    assert.ok(result.ok, result.ok ? '' : `${result.reason}: ${result.detail}`)
    assert.deepEqual(result.event, event)
  })

  it('every event of a simulated fleet should decode', () => {
    for (const host of createFleet(20, { seed: 9, intervalMs })) {
      for (let i = 0; i < 3; i++) {
        const event = host.sample(start + i * intervalMs)
        const result = decode(encodeEvent(event), Buffer.from(event.host.id), start + i * intervalMs)
        assert.ok(result.ok, result.ok ? '' : `${event.host.id}: ${result.reason}: ${result.detail}`)
      }
    }
  })

  it('an empty message should be rejected as empty', () => {
    rejected(decode(undefined), RejectReasons.EMPTY)
    rejected(decode(null), RejectReasons.EMPTY)
    rejected(decode(Buffer.alloc(0)), RejectReasons.EMPTY)
  })

  it('a message over the size limit should be rejected as too_large, one at it accepted', () => {
    const value = encodeEvent(validEvent())
    const detail = rejected(decode(value, null, now, { ...limits, maxMessageBytes: value.length - 1 }),
      RejectReasons.TOO_LARGE)
    assert.ok(detail.includes(String(value.length)), detail)
    assert.ok(decode(value, null, now, { ...limits, maxMessageBytes: value.length }).ok)
  })

  it('bytes that are not UTF-8 should be rejected as not_utf8', () => {
    rejected(decode(Buffer.from([0xff, 0xfe, 0x7b, 0x7d])), RejectReasons.NOT_UTF8)
    // an encoded UTF-16 surrogate, and a truncated sequence after valid JSON text
    rejected(decode(Buffer.from([0x7b, 0xed, 0xa0, 0x80, 0x7d])), RejectReasons.NOT_UTF8)
    rejected(decode(Buffer.concat([encodeEvent(validEvent()), Buffer.from([0xe2, 0x82])])),
      RejectReasons.NOT_UTF8)
  })

  it('text that is not JSON should be rejected as not_json', () => {
    rejected(decode(Buffer.from('{"version":1,')), RejectReasons.NOT_JSON)
    rejected(decode(Buffer.from('version=1 host=web-1')), RejectReasons.NOT_JSON)
    rejected(decode(Buffer.from(`${JSON.stringify(validEvent())}\n{}`)), RejectReasons.NOT_JSON)
  })

  it('JSON that is not an object should be rejected as not_object', () => {
    for (const value of ['[1,2]', '42', 'null', '"event"', 'true']) {
      const detail = rejected(decode(Buffer.from(value)), RejectReasons.NOT_OBJECT)
      assert.match(detail, /object/)
    }
  })

  it('an object without version 1 should be rejected as unknown_version', () => {
    rejected(decode(changed((event) => { event.version = 2 })), RejectReasons.UNKNOWN_VERSION)
    rejected(decode(changed((event) => { event.version = '1' })), RejectReasons.UNKNOWN_VERSION)
    rejected(decode(changed((event) => { delete event.version })), RejectReasons.UNKNOWN_VERSION)
    rejected(decode(Buffer.from('{}')), RejectReasons.UNKNOWN_VERSION)
  })

  it('a missing field should be rejected as schema, naming it', () => {
    const detail = rejected(decode(changed((event) => { delete event.host.name })),
      RejectReasons.SCHEMA)
    assert.match(detail, /host/)
    rejected(decode(changed((event) => { delete event.failures })), RejectReasons.SCHEMA)
    rejected(decode(changed((event) => { delete event.memory.swapUsedBytes })), RejectReasons.SCHEMA)
  })

  it('an extra field should be rejected as schema', () => {
    rejected(decode(changed((event) => { event.gpu = { busy: 3 } })), RejectReasons.SCHEMA)
    rejected(decode(changed((event) => { event.cpu.total.hyper = 1 })), RejectReasons.SCHEMA)
    rejected(decode(changed((event) => { event.network[0].mtu = 1500 })), RejectReasons.SCHEMA)
  })

  it('a field of the wrong type should be rejected as schema', () => {
    rejected(decode(changed((event) => { event.seq = '7' })), RejectReasons.SCHEMA)
    rejected(decode(changed((event) => { event.time = new Date(start).toISOString() })),
      RejectReasons.SCHEMA)
    rejected(decode(changed((event) => { event.filesystems = {} })), RejectReasons.SCHEMA)
    rejected(decode(changed((event) => { event.host.tags.role = 3 })), RejectReasons.SCHEMA)
    rejected(decode(changed((event) => { event.failures = [{ family: 'gpu', error: 'x' }] })),
      RejectReasons.SCHEMA)
  })

  it('a negative or fractional count should be rejected as schema', () => {
    rejected(decode(changed((event) => { event.memory.totalBytes = -1 })), RejectReasons.SCHEMA)
    rejected(decode(changed((event) => { event.network[0].rxBytes = -5 })), RejectReasons.SCHEMA)
    rejected(decode(changed((event) => { event.cpu.load1 = -0.5 })), RejectReasons.SCHEMA)
    rejected(decode(changed((event) => { event.seq = 1.5 })), RejectReasons.SCHEMA)
    rejected(decode(changed((event) => { event.cpu.total.busy = 100.5 })), RejectReasons.SCHEMA)
  })

  it('a number too large for a double (1e400, Infinity once parsed) should be rejected as schema', () => {
    const valid = JSON.stringify(validEvent())
    for (const field of ['load1', 'uptimeSeconds', 'totalBytes', 'time']) {
      const value = valid.replace(new RegExp(`"${field}":[-0-9.e+]+`), `"${field}":1e400`)
      assert.ok(value.includes(`"${field}":1e400`), `the text should have ${field}: 1e400`)
      rejected(decode(Buffer.from(value)), RejectReasons.SCHEMA)
    }
  })

  it('thousands of filesystems should be rejected as schema, with a short detail', () => {
    const value = changed((event) => {
      event.filesystems = Array.from({ length: 5000 }, (_, i) => ({
        ...event.filesystems[0], mount: `/srv/${i}`
      }))
    })
    const detail = rejected(decode(value, null, now, { ...limits, maxMessageBytes: 100 * 2 ** 20 }),
      RejectReasons.SCHEMA)
    assert.match(detail, /filesystems/)
  })

  it('a sample time too far ahead should be rejected as time_out_of_range, at the limit accepted', () => {
    const event = validEvent()
    const value = encodeEvent(event)
    const earliestNow = event.time - limits.maxClockSkewMs
    rejected(decode(value, null, earliestNow - 1), RejectReasons.TIME_OUT_OF_RANGE)
    assert.ok(decode(value, null, earliestNow).ok)
  })

  it('a sample time too far back should be rejected as time_out_of_range, at the limit accepted', () => {
    const event = validEvent()
    const value = encodeEvent(event)
    const latestNow = event.time + limits.maxSampleAgeMs
    const detail = rejected(decode(value, null, latestNow + 1), RejectReasons.TIME_OUT_OF_RANGE)
    assert.ok(detail.includes(new Date(event.time).toISOString()), detail)
    assert.ok(decode(value, null, latestNow).ok)
  })

  it('a key that is not the host id should be rejected as key_mismatch', () => {
    const event = validEvent()
    const value = encodeEvent(event)
    const detail = rejected(decode(value, Buffer.from('another-host')), RejectReasons.KEY_MISMATCH)
    assert.ok(detail.includes(event.host.id), detail)
    assert.ok(decode(value, Buffer.from(event.host.id)).ok)
    assert.ok(decode(value, Buffer.alloc(0)).ok, 'a message without a key is accepted')
  })

  it('details should stay short whatever the message holds', () => {
    const huge = 'x'.repeat(200_000)
    const cases: Array<[Buffer, Buffer | null, RejectReason]> = [
      [Buffer.from(`{"version":1,"a":"${huge}`), null, RejectReasons.NOT_JSON],
      [Buffer.from(`${huge}`), null, RejectReasons.NOT_JSON],
      [changed((event) => { event.version = huge }), null, RejectReasons.UNKNOWN_VERSION],
      [changed((event) => { event.host.name = huge }), null, RejectReasons.SCHEMA],
      [changed((event) => { event[huge] = 1 }), null, RejectReasons.SCHEMA],
      [encodeEvent(validEvent()), Buffer.from(huge), RejectReasons.KEY_MISMATCH]
    ]
    for (const [value, key, reason] of cases) {
      rejected(decode(value, key), reason)
    }
  })
})
