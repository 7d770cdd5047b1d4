export { parseMeminfo } from './parse.ts'
export type { Meminfo } from './parse.ts'
export { memoryFromMeminfo, createMemoryCollector } from './collect.ts'
