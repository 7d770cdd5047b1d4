export { parseUptime, parseBootTime } from './parse.ts'
export { createUptimeCollector } from './collect.ts'
