import { TypeCompiler } from '@sinclair/typebox/compiler'
import { EVENT_VERSION, EventV1, type SampleEvent } from './schema.ts'

const checkV1 = TypeCompiler.Compile(EventV1)
const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Why a message is not a storable event; each reason names one dead-letter cause. */
export const RejectReasons = {
  EMPTY: 'empty',
  TOO_LARGE: 'too_large',
  NOT_UTF8: 'not_utf8',
  NOT_JSON: 'not_json',
  NOT_OBJECT: 'not_object',
  UNKNOWN_VERSION: 'unknown_version',
  SCHEMA: 'schema',
  TIME_OUT_OF_RANGE: 'time_out_of_range',
  KEY_MISMATCH: 'key_mismatch'
} as const

export type RejectReason = (typeof RejectReasons)[keyof typeof RejectReasons]

export type Decoded =
  | { ok: true, event: SampleEvent }
  | { ok: false, reason: RejectReason, detail: string }

export interface DecodeLimits {
  maxMessageBytes: number
  /** How far ahead of `now` a sample time may be. */
  maxClockSkewMs: number
  /** How far behind `now` a sample time may be. */
  maxSampleAgeMs: number
}

export function encodeEvent (event: SampleEvent): Buffer {
  return Buffer.from(JSON.stringify(event))
}

/**
 * Turns a Kafka message into an event or a reason to dead-letter it. Checks run cheapest first:
 * size, encoding, JSON, version, shape, then the values that depend on the message's context.
 */
export function decodeEvent (value: Buffer | undefined | null, key: Buffer | undefined | null,
  limits: DecodeLimits, now = Date.now()): Decoded {
  if (value === undefined || value === null || value.length === 0) {
    return reject(RejectReasons.EMPTY, 'the message has no value')
  }
  if (value.length > limits.maxMessageBytes) {
    return reject(RejectReasons.TOO_LARGE,
      `${value.length} bytes is over the limit of ${limits.maxMessageBytes}`)
  }

  let text: string
  try {
    text = utf8.decode(value)
  } catch {
    return reject(RejectReasons.NOT_UTF8, 'the value is not valid UTF-8')
  }

  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    return reject(RejectReasons.NOT_JSON, (error as Error).message)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return reject(RejectReasons.NOT_OBJECT, `expected a JSON object, got ${jsonType(parsed)}`)
  }

  const version = (parsed as { version?: unknown }).version
  if (version !== EVENT_VERSION) {
    return reject(RejectReasons.UNKNOWN_VERSION,
      `schema version ${describe(version)} is not supported (expected ${EVENT_VERSION})`)
  }

  if (!checkV1.Check(parsed)) {
    return reject(RejectReasons.SCHEMA, schemaErrors(parsed))
  }
  // Valid UTF-8 holds no surrogates, so only a \uD800-\uDFFF escape in the text can make one.
  const malformed = surrogateEscape.test(text) ? loneSurrogateAt(parsed, '') : undefined
  if (malformed !== undefined) {
    return reject(RejectReasons.SCHEMA,
      `${malformed}: a string holds half of a UTF-16 surrogate pair`)
  }

  const event = parsed as SampleEvent
  if (event.time > now + limits.maxClockSkewMs || event.time < now - limits.maxSampleAgeMs) {
    return reject(RejectReasons.TIME_OUT_OF_RANGE,
      `sample time ${isoTime(event.time)} is too far from now`)
  }
  if (key !== undefined && key !== null && key.length > 0 && key.toString() !== event.host.id) {
    return reject(RejectReasons.KEY_MISMATCH,
      `message key ${JSON.stringify(key.toString().slice(0, 128))} is not the host id ${JSON.stringify(event.host.id)}`)
  }

  return { ok: true, event }
}

/**
 * A lone surrogate: JSON may spell one as an escape (`"\\ud800"`), and V8 may cut a pair when
 * it quotes the text in an error. ClickHouse refuses such a string in a row (code 25), and ingest
 * retries that refusal forever, so none may reach a row: not in an event, not in a detail.
 */
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/
const surrogateEscape = /\\u[dD][89a-fA-F]/

function reject (reason: RejectReason, detail: string): Decoded {
  const short = detail.slice(0, 1000)
  return { ok: false, reason, detail: loneSurrogate.test(short) ? wellFormed(short) : short }
}

function wellFormed (text: string): string {
  return text.replace(new RegExp(loneSurrogate.source, 'g'), '\ufffd')
}

/** Where the first string or key with a lone surrogate is; the schema has bounded the depth. */
function loneSurrogateAt (value: unknown, path: string): string | undefined {
  if (typeof value === 'string') {
    return loneSurrogate.test(value) ? path : undefined
  }
  if (typeof value !== 'object' || value === null) {
    return undefined
  }
  for (const [key, item] of Object.entries(value)) {
    const at = `${path}/${key}`
    if (loneSurrogate.test(key)) {
      return wellFormed(at)
    }
    const found = loneSurrogateAt(item, at)
    if (found !== undefined) {
      return found
    }
  }
  return undefined
}

/** A short account of any JSON value: a nested array may be too deep for JSON.stringify. */
function describe (value: unknown): string {
  if (value === undefined) {
    return 'missing'
  }
  if (typeof value === 'object' && value !== null) {
    return jsonType(value)
  }
  return JSON.stringify(typeof value === 'string' ? value.slice(0, 100) : value)
}

/** Dates end at ±8.64e15 ms; a sample time past that is shown as the number it is. */
function isoTime (ms: number): string {
  return Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : `${ms} ms`
}

function schemaErrors (value: unknown): string {
  const found: string[] = []
  for (const error of checkV1.Errors(value)) {
    found.push(`${error.path === '' ? '/' : error.path}: ${error.message}`)
    if (found.length === 3) {
      break
    }
  }
  return found.join('; ')
}

function jsonType (value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array'
    : typeof value === 'object' ? 'an object' : typeof value
}
