/**
 * What the connected ClickHouse server can do. The schema is written for the oldest server we
 * support (18.16, Debian 12's package) and uses each newer feature only where the server has it.
 */
export interface ServerVersion {
  major: number
  minor: number
  text: string
}

export interface Features {
  /** `DateTime64(3)`: sample times keep their milliseconds (20.1+). */
  dateTime64: boolean
  /** Column `CODEC(...)`: Delta/DoubleDelta/Gorilla for time series, ZSTD for text (19.11+). */
  codecs: boolean
  /** Table `TTL`: old rows expire by themselves (19.6+). */
  ttl: boolean
  /** `LowCardinality(String)` without an experimental setting (19.9+). */
  lowCardinality: boolean
  /** `{name:Type}` query parameters bound by the server (19.6+). */
  queryParameters: boolean
}

export function parseVersion (text: string): ServerVersion {
  const match = /^(\d+)\.(\d+)/.exec(text.trim())
  if (match === null) {
    throw new Error(`cannot read the ClickHouse version from ${JSON.stringify(text)}`)
  }
  return { major: Number(match[1]), minor: Number(match[2]), text: text.trim() }
}

export function featuresOf (version: ServerVersion): Features {
  const atLeast = (major: number, minor: number) =>
    version.major > major || (version.major === major && version.minor >= minor)
  return {
    dateTime64: atLeast(20, 1),
    codecs: atLeast(19, 11),
    ttl: atLeast(19, 6),
    lowCardinality: atLeast(19, 9),
    queryParameters: atLeast(19, 6)
  }
}

export const legacyFeatures: Features = featuresOf({ major: 18, minor: 16, text: '18.16' })
export const modernFeatures: Features = featuresOf({ major: 24, minor: 1, text: '24.1' })
