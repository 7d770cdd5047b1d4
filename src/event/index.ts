export * from './schema.ts'
export { encodeEvent, decodeEvent, RejectReasons, type Decoded, type DecodeLimits,
  type RejectReason } from './codec.ts'
