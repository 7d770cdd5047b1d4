import { createFleet } from '../../src/agent/simulate.ts'
import type { SampleEvent } from '../../src/event/index.ts'

/**
 * Messages for the bad-input and fuzz tests: valid events of made-up hosts, and a seeded
 * mutator that turns them (or nothing at all) into the kinds of bytes a careless or hostile
 * producer could put on the topic. The same seed gives the same messages, except for the
 * sample times, which follow the clock.
 */

/** sfc32: four words of state, fast, and good enough to pick mutations. */
export class Random {
  #a: number
  #b: number
  #c: number
  #d: number

  constructor (seed: number) {
    this.#a = 0x9e3779b9
    this.#b = 0x243f6a88
    this.#c = 0xb7e15162
    this.#d = seed >>> 0
    for (let i = 0; i < 15; i++) this.next()
  }

  /** A number in [0, 1). */
  next (): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0
    this.#d = (this.#d + 1) >>> 0
    this.#a = this.#b ^ (this.#b >>> 9)
    this.#b = (this.#c + (this.#c << 3)) >>> 0
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0
    this.#c = (this.#c + t) >>> 0
    return t / 4_294_967_296
  }

  /** An integer in [0, n). */
  int (n: number): number {
    return Math.floor(this.next() * n)
  }

  /** An integer in [min, max], spread evenly over the orders of magnitude. */
  logInt (min: number, max: number): number {
    return Math.floor(Math.exp(Math.log(min) + this.next() * (Math.log(max + 1) - Math.log(min))))
  }

  chance (p: number): boolean {
    return this.next() < p
  }

  pick<T> (items: readonly T[]): T {
    return items[this.int(items.length)] as T
  }

  bytes (n: number): Buffer {
    const out = Buffer.alloc(n)
    for (let i = 0; i < n; i++) out[i] = this.int(256)
    return out
  }
}

/** A valid event of host `hostId` sampled at `timeMs`, with network rates set. */
export function validEvent (hostId: string, timeMs: number, seed = 1): SampleEvent {
  const [host] = createFleet(1, { seed, intervalMs: 10_000 })
  host.sample(timeMs - 10_000)
  const event = host.sample(timeMs)
  return { ...event, host: { ...event.host, id: hostId } }
}

export const bytesOf = (value: unknown): Buffer => Buffer.from(JSON.stringify(value))

/** The event's JSON with one change made to a copy of it. */
export function changed (event: SampleEvent, change: (copy: any) => void): Buffer {
  const copy = JSON.parse(JSON.stringify(event))
  change(copy)
  return bytesOf(copy)
}

/** The event's JSON with the first value of `field` replaced by raw JSON text. */
export function withRaw (event: SampleEvent, field: string, raw: string): Buffer {
  const text = JSON.stringify(event)
  const pattern = new RegExp(`"${field}":(-?[0-9.eE+-]+|"[^"]*")`)
  const replaced = text.replace(pattern, `"${field}":${raw}`)
  if (replaced === text) throw new Error(`no ${field} in the event`)
  return Buffer.from(replaced)
}

export interface FuzzMessage {
  /** which mutation made it, for the report */
  kind: string
  key: Buffer | undefined
  value: Buffer
}

export interface FuzzOptions {
  /** Sample times start two hours before this, a second per message, inside the time window. */
  now: number
  /** Messages made bigger than this are rare and stay under it plus a little; for the broker. */
  maxBytes: number
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
/** Where a node sits: in its parent under a key, or at the root (no parent). */
interface Slot {
  parent?: any
  key?: string | number
}

/**
 * Makes message number `index`: a valid event of a host of its own (`fuzz-<index>`, at a
 * sample time of its own), left alone or mutated. Unique hosts and times mean no two stored
 * events share a `host_samples` key, so the tables can be counted exactly.
 */
export class Fuzzer {
  readonly #random: Random
  readonly #options: FuzzOptions
  readonly #bases: SampleEvent[]

  constructor (seed: number, options: FuzzOptions) {
    this.#random = new Random(seed)
    this.#options = options
    // A few host shapes (core counts, disks, interfaces), reused with new ids and times.
    this.#bases = Array.from({ length: 16 }, (_, i) =>
      validEvent('base', options.now - 3_600_000, (seed + i) >>> 0))
  }

  next (index: number): FuzzMessage {
    const random = this.#random
    const base = random.pick(this.#bases)
    // One second of its own per message: 18.16 stores sample times in whole seconds.
    const second = Math.floor(this.#options.now / 1000) - 7200 + index % 7000
    const event = { ...base, time: second * 1000 + random.int(1000), host: { ...base.host, id: `fuzz-${index}` } }
    const plain: FuzzMessage = { kind: 'valid', key: Buffer.from(event.host.id), value: bytesOf(event) }

    const kind = this.#pickKind()
    if (kind === 'combo') {
      const steps = Array.from({ length: 2 + random.int(2) }, () => this.#pickKind(true))
      let message = plain
      for (const step of steps) {
        message = this.#apply(step, message, event)
      }
      return { ...message, kind: `combo(${steps.join('+')})` }
    }
    return this.#apply(kind, { ...plain, kind }, event)
  }

  #pickKind (inCombo = false): string {
    const weights: Array<[string, number]> = [
      ['valid', inCombo ? 0 : 22], ['delete', 6], ['duplicate', 4], ['retype', 6], ['number', 10],
      ['truncate', 4], ['flip', 4], ['utf8', 4], ['nesting', inCombo ? 0 : 2],
      ['array', inCombo ? 0 : 2], ['version', 4], ['key', 5], ['string', 8], ['time', 4],
      ['extra', 3], ['oversize', inCombo ? 0 : 1], ['bytes', inCombo ? 0 : 4],
      ['json', inCombo ? 0 : 4], ['combo', inCombo ? 0 : 4]
    ]
    const total = weights.reduce((sum, [, weight]) => sum + weight, 0)
    let roll = this.#random.next() * total
    for (const [kind, weight] of weights) {
      roll -= weight
      if (roll < 0) return kind
    }
    return 'valid'
  }

  #apply (kind: string, message: FuzzMessage, event: SampleEvent): FuzzMessage {
    const random = this.#random
    const tree = (): Json | undefined => {
      try {
        return JSON.parse(message.value.toString()) as Json
      } catch {
        return undefined
      }
    }
    const onTree = (change: (root: Json, raw: RawText) => Json): FuzzMessage => {
      const root = tree()
      if (root === undefined) return message
      const raw = new RawText(random)
      const after = change(root, raw)
      return { kind, key: this.#keyFor(after, raw, message.key), value: raw.render(after) }
    }

    switch (kind) {
      case 'valid':
        return message
      case 'delete':
        return onTree((root) => {
          const slot = this.#someSlot(root, (_, inner) => inner)
          if (Array.isArray(slot?.parent)) slot.parent.splice(slot.key as number, 1)
          else if (slot?.parent !== undefined) delete slot.parent[slot.key as string]
          return root
        })
      case 'duplicate': {
        // The same key twice: JSON.parse keeps the last, so where it goes decides what counts.
        const text = message.value.toString()
        const field = random.pick(['version', 'seq', 'time', 'host', 'intervalMs', 'failures'])
        const value = random.pick(['-1', '"x"', '2', 'null', '[]', '{}', '1'])
        return {
          kind,
          key: message.key,
          value: Buffer.from(random.chance(0.5)
            ? text.replace(/^\s*\{/, `{"${field}":${value},`)
            : text.replace(/\}\s*$/, `,"${field}":${value}}`))
        }
      }
      case 'retype':
        return onTree((root, raw) => {
          return put(root, this.#someSlot(root, (_, inner) => inner), this.#randomJson(2, raw))
        })
      case 'number':
        return onTree((root, raw) => {
          const slot = this.#someSlot(root, (node) => typeof node === 'number')
          return put(root, slot, raw.of(random.pick(extremeNumbers)))
        })
      case 'truncate': {
        const cut = random.int(message.value.length)
        return { kind, key: message.key, value: message.value.subarray(0, cut) }
      }
      case 'flip': {
        const value = Buffer.from(message.value)
        const flips = 1 + random.int(8)
        for (let i = 0; i < flips && value.length > 0; i++) {
          value[random.int(value.length)] ^= 1 << random.int(8)
        }
        return { kind, key: message.key, value }
      }
      case 'utf8': {
        const bad = Buffer.from(random.pick(invalidUtf8))
        const at = random.int(message.value.length + 1)
        return {
          kind,
          key: message.key,
          value: Buffer.concat([message.value.subarray(0, at), bad, message.value.subarray(at)])
        }
      }
      case 'nesting':
        return onTree((root, raw) => {
          const depth = random.logInt(100, Math.min(100_000, this.#options.maxBytes / 6))
          const nested = random.chance(0.5)
            ? '['.repeat(depth) + ']'.repeat(depth)
            : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)
          return put(root, this.#someSlot(root, () => true), raw.of(nested))
        })
      case 'array':
        return onTree((root) => {
          const length = 1025 + random.int(600)
          const into = random.pick(['filesystems', 'network', 'cpu', 'failures', 'tags'])
          const object = root as Record<string, any>
          if (typeof object !== 'object' || object === null) return root
          if (into === 'tags' && typeof object.host === 'object' && object.host !== null) {
            object.host.tags = Object.fromEntries(Array.from({ length }, (_, i) => [`t${i}`, 'v']))
          } else if (into === 'cpu' && typeof object.cpu === 'object' && object.cpu !== null) {
            object.cpu.perCore = Array.from({ length }, () => object.cpu.total)
          } else {
            const item = Array.isArray(object[into]) ? object[into][0] ?? 1 : 1
            object[into] = Array.from({ length }, () => item)
          }
          return root
        })
      case 'version':
        return onTree((root, raw) => {
          if (typeof root !== 'object' || root === null || Array.isArray(root)) return root
          if (random.chance(0.15)) {
            delete root.version
          } else {
            root.version = raw.of(random.pick(['0', '2', '99', '-1', '"1"', '1.5', 'null', '[1]',
              '{"v":1}', 'true', '1e400', '1.0', '1e0', '10e-1']))
          }
          return root
        })
      case 'key': {
        const id = message.key?.toString() ?? event.host.id
        const key = random.pick<Buffer | undefined>([
          Buffer.from('another-host'), Buffer.from(id.toUpperCase()), Buffer.from(`${id} `),
          Buffer.from(`${id}\u0000`), random.bytes(1 + random.int(40)), Buffer.alloc(0), undefined,
          Buffer.from('x'.repeat(10_000))
        ])
        return { kind, key, value: message.value }
      }
      case 'string':
        return onTree((root, raw) => {
          const slot = this.#someSlot(root, (node) => typeof node === 'string')
          return put(root, slot, raw.of(random.pick(edgeStrings)))
        })
      case 'time':
        return onTree((root) => {
          if (typeof root !== 'object' || root === null || Array.isArray(root)) return root
          const now = this.#options.now
          const day = 86_400_000
          root.time = random.pick([now + day, now + 3_600_000, now - 31 * day, now - 400 * day,
            0, 1, 1e16, 2 ** 53 - 1, 8.64e15 + 1, now + 365 * day])
          return root
        })
      case 'extra':
        return onTree((root, raw) => {
          const slot = this.#someSlot(root, (node) => typeof node === 'object' && node !== null &&
            !Array.isArray(node))
          const target = (slot?.parent === undefined ? root : slot.parent[slot.key as string]) as
            Record<string, Json>
          if (typeof target !== 'object' || target === null) return root
          const name = random.pick(['gpu', '__proto__', 'constructor', 'toString', '', 'version',
            'hasOwnProperty', '\u00e9', 'a'.repeat(300)])
          // `__proto__` as a key of an object literal would set the prototype, not a field.
          Object.defineProperty(target, name, {
            value: this.#randomJson(2, raw), enumerable: true, configurable: true, writable: true
          })
          return root
        })
      case 'oversize':
        return onTree((root) => {
          const slot = this.#someSlot(root, (node) => typeof node === 'string')
          const size = this.#options.maxBytes / 4 + random.int(this.#options.maxBytes / 2)
          return put(root, slot, 'x'.repeat(size))
        })
      case 'bytes':
        return { kind, key: message.key, value: random.bytes(random.logInt(1, 4000)) }
      case 'json': {
        const raw = new RawText(random)
        const value = raw.render(this.#randomJson(4, raw))
        return { kind, key: random.chance(0.5) ? message.key : undefined, value }
      }
      default:
        throw new Error(`unknown mutation ${kind}`)
    }
  }

  /** Mostly the host id the event now names, sometimes none: what a real producer would send. */
  #keyFor (root: Json, raw: RawText, previous: Buffer | undefined): Buffer | undefined {
    const random = this.#random
    if (random.chance(0.1)) return undefined
    const id = raw.resolve((root as { host?: { id?: Json } } | null)?.host?.id)
    if (typeof id === 'string' && random.chance(0.9)) return Buffer.from(id)
    return previous
  }

  /** A random node among those `accept` takes (`inner`: not the root), or undefined. */
  #someSlot (root: Json, accept: (node: Json, inner: boolean) => boolean): Slot | undefined {
    const found: Slot[] = []
    const walk = (node: Json, slot: Slot): void => {
      if (accept(node, slot.parent !== undefined)) found.push(slot)
      if (Array.isArray(node)) {
        for (let i = 0; i < node.length; i++) walk(node[i] as Json, { parent: node, key: i })
      } else if (typeof node === 'object' && node !== null) {
        for (const key of Object.keys(node)) walk(node[key] as Json, { parent: node, key })
      }
    }
    walk(root, {})
    return found.length === 0 ? undefined : this.#random.pick(found)
  }

  #randomJson (depth: number, raw: RawText): Json {
    const random = this.#random
    const roll = depth <= 0 ? random.int(5) : random.int(8)
    switch (roll) {
      case 0: return null
      case 1: return random.chance(0.5)
      case 2: return raw.of(random.pick(extremeNumbers))
      case 3: return random.pick(edgeStrings).startsWith('RAW:') ? 'x' : random.pick(edgeStrings)
      case 4: return random.pick([0, 1, -1, 1.5, 100, 1_800_000_000_000])
      case 5:
      case 6: return Array.from({ length: random.int(5) }, () => this.#randomJson(depth - 1, raw))
      default: {
        const object: Record<string, Json> = {}
        for (let i = random.int(6); i > 0; i--) {
          object[random.pick(['version', 'host', 'id', 'time', 'seq', 'cpu', 'a', ''])] =
            random.chance(0.2) ? 1 : this.#randomJson(depth - 1, raw)
        }
        return object
      }
    }
  }
}

/** Values written into the JSON text as they are: number spellings JSON.stringify never makes. */
class RawText {
  readonly #texts: string[] = []
  readonly #nonce: string

  constructor (random: Random) {
    this.#nonce = random.int(2 ** 30).toString(36)
  }

  /** A placeholder string for `text`; `RAW:` strings from the edge list are taken as raw. */
  of (text: string): Json {
    this.#texts.push(text.startsWith('RAW:') ? text.slice(4) : text)
    return `@raw${this.#texts.length - 1}-${this.#nonce}@`
  }

  /** What a placeholder stands for once parsed; anything else as it is. */
  resolve (value: Json | undefined): Json | undefined {
    const match = typeof value === 'string' ? /^@raw(\d+)-/.exec(value) : null
    if (match === null) return value
    try {
      return JSON.parse(this.#texts[Number(match[1])] as string) as Json
    } catch {
      return undefined
    }
  }

  render (root: Json): Buffer {
    let text = JSON.stringify(root) ?? 'null'
    this.#texts.forEach((raw, i) => {
      text = text.replace(`"@raw${i}-${this.#nonce}@"`, () => raw)
    })
    return Buffer.from(text)
  }
}

const extremeNumbers = [
  '0', '-0', '-1', '1.5', '0.1', '1e-7', '5e-324', '-1e-300', '1e400', '-1e400', 'NaN',
  'Infinity', '-Infinity', '9007199254740991', '9007199254740993', '9223372036854775807',
  '9223372036854775808', '18446744073709551615', '18446744073709551616', '1180591620717411303424',
  '1e21', '1e300', '1.7976931348623157e308', '250', '100.0001', '65535', '65536', '4294967296',
  '2147483648', '01', '0x10', '1_000', '+1', '.5', '1.', '"42"', 'true', 'null'
]

const edgeStrings = [
  '', ' ', 'q"uote', 'back\\slash', '\\"', 'ünïcödé', '日本語', '😀', 'e\u0301', '\u0000',
  'ctl\u0001\u001f\u007f', 'nl\n\r\t', '\u2028\u2029', '\ufeffbom', '\ufffd', 'x'.repeat(129),
  'x'.repeat(5000), "'; DROP TABLE events; --", '{"version":1}',
  // JSON text as it is: escapes of half a surrogate pair, of a whole one, and invalid ones
  'RAW:"\\ud800"', 'RAW:"a\\udc00"', 'RAW:"\\ud83d\\ude00"', 'RAW:"\\u0000\\u001f"', 'RAW:"\\x41"',
  'RAW:"\\uZZZZ"', 'RAW:"tab\there"', 'RAW:"\\/"'
]

const invalidUtf8 = [
  [0xff], [0xfe, 0xff], [0x80], [0xc3, 0x28], [0xc0, 0xaf], [0xe2, 0x82], [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]
]

/** Puts `value` in `slot` and returns the root; no slot leaves the tree as it was. */
function put (root: Json, slot: Slot | undefined, value: Json): Json {
  if (slot === undefined) return root
  if (slot.parent === undefined) return value
  slot.parent[slot.key as string | number] = value
  return root
}
