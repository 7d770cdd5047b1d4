export { parseMounts, unescapeOctal } from './parse.ts'
export type { Mount } from './parse.ts'
export {
  pseudoFsTypes, selectMounts, filesystemFromStats, createFilesystemsCollector
} from './collect.ts'
