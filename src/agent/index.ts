/** The agent: reads the host's metrics and turns them into sample events. */
export { Sampler, nextTick, runSampler } from './sampler.ts'
export type { SamplerOptions, SamplerIdentity, RunSamplerOptions } from './sampler.ts'
export { createFleet, SimulatedHost } from './simulate.ts'
export type { FleetOptions } from './simulate.ts'
export {
  createCollectors, createFsReader, createOsCollectors, monotonicClock, osBootId, osHostIdentity,
  readBootId, readHostIdentity
} from './collectors/index.ts'
export type {
  Collector, Collectors, FsReaderOptions, FsStats, HostIdentityOptions, MonotonicClock, OsReader
} from './collectors/index.ts'
