export {
  parseOsRelease, osName, parseMachineId, parseBootId, countCpus
} from './parse.ts'
export { readHostIdentity, readBootId } from './collect.ts'
export type { HostIdentityOptions } from './collect.ts'
