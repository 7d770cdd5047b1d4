export { parseNetDev, interfaceCounterNames } from './parse.ts'
export type { InterfaceCounters } from './parse.ts'
export { interfaceRates, createNetworkCollector } from './collect.ts'
