import { Type, type Static, type TSchema } from '@sinclair/typebox'

/**
 * The sample event, version 1: one definition gives the TypeScript types and the runtime
 * validator. Objects are closed (no extra keys): a producer that needs new fields publishes a
 * new schema version. Sizes are in bytes, percentages in 0..100, times in Unix milliseconds.
 */

export const EVENT_VERSION = 1

// Sizes, counters and ids are stored as UInt64, where ClickHouse refuses a fraction or a number
// JSON writes with an exponent (1e+21): integers only, and ids below 2^53.
const Bytes = (description: string) => Type.Integer({ minimum: 0, maximum: 2 ** 63, description })
const Count = (description: string) => Type.Integer({ minimum: 0, maximum: 2 ** 64, description })
const Whole = (description: string) =>
  Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description })
/** The run queue holds at most pid_max tasks, 2^22 on 64-bit Linux; stored as Float32. */
const Load = (description: string) => Type.Number({ minimum: 0, maximum: 2 ** 22, description })
const Percent = (description: string) => Type.Number({ minimum: 0, maximum: 100, description })
const Text = (maxLength: number, description: string) =>
  Type.String({ maxLength, description })
const Closed = <T extends Parameters<typeof Type.Object>[0]>(properties: T, description?: string) =>
  Type.Object(properties, { additionalProperties: false, description })

/** Time spent in each CPU state over the sample interval, as a share of the whole. */
export const CpuTimes = Closed({
  user: Percent('normal processes in user mode'),
  nice: Percent('niced processes in user mode'),
  system: Percent('kernel mode'),
  idle: Percent('idle'),
  iowait: Percent('idle while waiting for I/O'),
  irq: Percent('servicing hardware interrupts'),
  softirq: Percent('servicing software interrupts'),
  steal: Percent('taken by the hypervisor for other guests'),
  guest: Percent('running a guest (included in user)'),
  guestNice: Percent('running a niced guest (included in nice)'),
  busy: Percent('everything but idle and iowait')
})

export const Cpu = Closed({
  cores: Type.Integer({ minimum: 1, maximum: 65_535, description: 'logical CPUs seen (UInt16)' }),
  total: CpuTimes,
  perCore: Type.Array(CpuTimes, { maxItems: 65_536, description: 'in core order' }),
  load1: Load('run-queue load average, 1 minute'),
  load5: Load('run-queue load average, 5 minutes'),
  load15: Load('run-queue load average, 15 minutes')
})

export const Memory = Closed({
  totalBytes: Bytes('usable RAM'),
  availableBytes: Bytes('estimate of memory available without swapping'),
  usedBytes: Bytes('total minus available'),
  freeBytes: Bytes('completely unused'),
  buffersBytes: Bytes('block device buffers'),
  cachedBytes: Bytes('page cache and reclaimable slab'),
  swapTotalBytes: Bytes('swap space'),
  swapFreeBytes: Bytes('unused swap'),
  swapUsedBytes: Bytes('swap in use')
})

export const Filesystem = Closed({
  mount: Text(4096, 'mount point'),
  device: Text(4096, 'mounted device or source'),
  fsType: Text(64, 'filesystem type'),
  sizeBytes: Bytes('size'),
  usedBytes: Bytes('size minus free blocks'),
  availableBytes: Bytes('free to unprivileged users'),
  inodesTotal: Count('inodes'),
  inodesUsed: Count('inodes in use'),
  inodesFree: Count('free inodes')
})

/** Per-second rates over the sample interval; null when there is no earlier reading to compare. */
export const InterfaceRates = Closed({
  rxBytes: Type.Number({ minimum: 0 }),
  txBytes: Type.Number({ minimum: 0 }),
  rxPackets: Type.Number({ minimum: 0 }),
  txPackets: Type.Number({ minimum: 0 }),
  rxErrors: Type.Number({ minimum: 0 }),
  txErrors: Type.Number({ minimum: 0 }),
  rxDrops: Type.Number({ minimum: 0 }),
  txDrops: Type.Number({ minimum: 0 })
})

/** Raw counters as the kernel reports them since the interface appeared. */
export const NetworkInterface = Closed({
  name: Text(64, 'interface name'),
  rxBytes: Count('received bytes'),
  txBytes: Count('sent bytes'),
  rxPackets: Count('received packets'),
  txPackets: Count('sent packets'),
  rxErrors: Count('receive errors'),
  txErrors: Count('transmit errors'),
  rxDrops: Count('received packets dropped'),
  txDrops: Count('sent packets dropped'),
  perSecond: Type.Union([InterfaceRates, Type.Null()])
})

export const Uptime = Closed({
  uptimeSeconds: Type.Number({ minimum: 0 }),
  bootTime: Whole('Unix ms')
})

export const HostIdentity = Closed({
  id: Text(128, 'stable host id: the machine id, or the hostname where there is none'),
  name: Text(255, 'hostname'),
  os: Text(255, 'operating system name and version'),
  kernel: Text(255, 'kernel release'),
  arch: Text(32, 'CPU architecture'),
  cpuCount: Type.Integer({ minimum: 1, maximum: 65_536 }),
  agentVersion: Text(64, 'version of the agent that took the sample'),
  tags: Type.Record(Type.String({ maxLength: 128 }), Type.String({ maxLength: 1024 }),
    { maxProperties: 64, description: 'operator-given labels' })
})

export const MetricFamilies = ['cpu', 'memory', 'filesystems', 'network', 'uptime'] as const
export type MetricFamily = (typeof MetricFamilies)[number]

export const FamilyFailure = Closed({
  family: Type.Union(MetricFamilies.map((family) => Type.Literal(family))),
  error: Text(1024, 'why the collector failed')
})

export const EventV1 = Closed({
  version: Type.Literal(EVENT_VERSION),
  host: HostIdentity,
  bootId: Text(64, 'kernel boot id: changes on every reboot'),
  agentStartedAt: Whole('Unix ms; changes when the agent restarts'),
  seq: Whole('per agent run, +1 per sample, from 0'),
  time: Type.Integer({ minimum: 0, description: 'sample time, Unix ms' }),
  intervalMs: Type.Integer({ minimum: 1, maximum: 86_400_000 }),
  cpu: Type.Optional(Cpu),
  memory: Type.Optional(Memory),
  filesystems: Type.Optional(Type.Array(Filesystem, { maxItems: 1024 })),
  network: Type.Optional(Type.Array(NetworkInterface, { maxItems: 1024 })),
  uptime: Type.Optional(Uptime),
  failures: Type.Array(FamilyFailure, { maxItems: MetricFamilies.length })
})

export type CpuTimes = Static<typeof CpuTimes>
export type Cpu = Static<typeof Cpu>
export type Memory = Static<typeof Memory>
export type Filesystem = Static<typeof Filesystem>
export type InterfaceRates = Static<typeof InterfaceRates>
export type NetworkInterface = Static<typeof NetworkInterface>
export type Uptime = Static<typeof Uptime>
export type HostIdentity = Static<typeof HostIdentity>
export type FamilyFailure = Static<typeof FamilyFailure>
export type SampleEvent = Static<typeof EventV1>

/** What each family's collector contributes to an event. */
export interface FamilyValues {
  cpu: Cpu
  memory: Memory
  filesystems: Filesystem[]
  network: NetworkInterface[]
  uptime: Uptime
}

export type { TSchema }
