export { parseProcStat, parseLoadavg, cpuCounterNames } from './parse.ts'
export type { CpuCounters, CoreCounters, ProcStat, LoadAverage } from './parse.ts'
export { cpuTimes, createCpuCollector } from './collect.ts'
