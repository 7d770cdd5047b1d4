/**
 * What every fault test needs: a stack of its own (so stopping a server never disturbs another
 * test), settings isolated within it, the vitals commands as child processes, counted load, and
 * the end-to-end counts that say whether every sample produced was stored exactly once.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { TestContext } from 'node:test'
import { Admin } from '@platformatic/kafka'
import { Publisher } from '../../src/agent/publisher.ts'
import { createFleet, type SimulatedHost } from '../../src/agent/simulate.ts'
import type { Settings } from '../../src/config/index.ts'
import { kafkaConnection } from '../../src/kafka/options.ts'
import { ensureTopics } from '../../src/kafka/topics.ts'
import { componentLogger, setLogLevel } from '../../src/log.ts'
import { startStack, stopStack, type StackState } from '../../src/stack/index.ts'
import { Store } from '../../src/store/index.ts'
import { envFor, startVitals, type Run, type Started } from '../helpers/cli.ts'
import { isolatedSettingsFor } from '../helpers/isolated.ts'
import { eventually } from '../helpers/stack.ts'

// The in-process publishers would otherwise log every Kafka hiccup of a deliberate outage.
setLogLevel('error')
export const log = componentLogger('fault-test')

export interface RigOptions {
  partitions?: number
  /** Batches close after this long; short, so a kill often lands while one is being written. */
  maxBatchMs?: number
}

/** A child process of the test, by role, with what it has printed so far. */
export interface Child extends Started {
  name: string
}

export class Rig {
  readonly prefix: string
  readonly options: RigOptions
  home: string | undefined
  state!: StackState
  settings!: Settings
  store!: Store
  readonly children: Child[] = []

  constructor (prefix: string, options: RigOptions = {}) {
    this.prefix = prefix
    this.options = options
  }

  /** Starts the stack, creates the topics and the schema (through a first `vitals migrate`). */
  async start (): Promise<void> {
    this.home = await mkdtemp(join(tmpdir(), `vitals-${this.prefix}-`))
    this.state = (await startStack({ home: this.home, readyTimeoutMs: 90_000 })).state
    this.settings = isolatedSettingsFor(this.state, this.prefix)
    this.settings.kafka.partitions = this.options.partitions ?? 3
    this.settings.ingest.maxBatchMs = this.options.maxBatchMs ?? 300
    await ensureTopics(kafkaConnection(this.settings.kafka, 'fault-test'), [
      { name: this.settings.kafka.topic, partitions: this.settings.kafka.partitions },
      { name: this.settings.kafka.deadLetterTopic, partitions: 1 }
    ], log)
    const migrated = await startVitals(['migrate'], this.env()).exited
    assert.equal(migrated.code, 0, migrated.stderr)
    this.store = await Store.connect(this.settings.clickhouse)
  }

  /** Kills what is still running of ours, stops the stack quickly and removes its folder. */
  async stop (): Promise<void> {
    for (const child of this.children) {
      if (alive(child)) {
        child.process.kill('SIGKILL')
        await child.exited
      }
    }
    await this.store?.close().catch(() => {})
    if (this.home === undefined) return
    // The data is thrown away: no need to wait for a clean Kafka shutdown.
    await stopStack(this.home, { timeoutMs: 1_000 }).catch(() => {})
    await rm(this.home, { recursive: true, force: true })
  }

  env (): NodeJS.ProcessEnv {
    return { ...envFor(this.settings), VITALS_LOG_LEVEL: 'info' }
  }

  /** `vitals ingest` in this rig's consumer group. */
  ingest (name = 'ingest'): Child {
    return this.spawn(name, ['ingest',
      '--set', `ingest.groupId=${this.settings.ingest.groupId}`,
      '--set', `ingest.maxBatchMs=${this.settings.ingest.maxBatchMs}`,
      '--set', `kafka.partitions=${this.settings.kafka.partitions}`])
  }

  /** `vitals agent --interval 1s` sampling this machine under its own host id. */
  agent (hostId: string, name = 'agent'): Child {
    return this.spawn(name, ['agent', '--interval', '1s', '--set', `agent.hostId=${hostId}`,
      '--set', `kafka.partitions=${this.settings.kafka.partitions}`])
  }

  spawn (name: string, args: string[]): Child {
    const child = { name, ...startVitals(args, this.env()) }
    this.children.push(child)
    return child
  }

  /** Counts of what is stored, as the assertions and diagnostics need them. */
  async counts (): Promise<Counts> {
    const one = async (sql: string): Promise<number> =>
      Number((await this.store.query<{ n: string }>(sql))[0].n)
    const t = (name: string): string => this.store.table(name)
    const runs = await this.store.query<{ host_id: string, started: string, n: string,
      seqs: string, min_seq: string, max_seq: string }>(`
      SELECT host_id, toString(agent_started_at) AS started, count() AS n,
        uniqExact(seq) AS seqs, min(seq) AS min_seq, max(seq) AS max_seq
      FROM ${t('host_samples')} FINAL GROUP BY host_id, agent_started_at
      ORDER BY host_id, agent_started_at`)
    return {
      samples: await one(`SELECT count() AS n FROM ${t('host_samples')} FINAL`),
      samplesRaw: await one(`SELECT count() AS n FROM ${t('host_samples')}`),
      distinctSamples: await one(
        `SELECT uniqExact(host_id, seq, agent_started_at) AS n FROM ${t('host_samples')}`),
      events: await one(`SELECT count() AS n FROM ${t('events')} FINAL`),
      eventsRaw: await one(`SELECT count() AS n FROM ${t('events')}`),
      deadLetters: await one(`SELECT count() AS n FROM ${t('dead_letters')} FINAL`),
      runs: runs.map((row) => ({
        host: row.host_id,
        agentStartedAt: Number(row.started),
        samples: Number(row.n),
        distinctSeq: Number(row.seqs),
        minSeq: Number(row.min_seq),
        maxSeq: Number(row.max_seq)
      }))
    }
  }

  /** Kafka's view: messages in the topic, and what the ingest group has committed. */
  async offsets (): Promise<{ end: number[], committed: number[] }> {
    const admin = this.#admin()
    try {
      const partitions = Array.from({ length: this.settings.kafka.partitions }, (_, i) => i)
      const [listed] = await admin.listOffsets({
        topics: [{
          name: this.settings.kafka.topic,
          partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp: -1n }))
        }]
      })
      const end = partitions.map((p) =>
        Number(listed.partitions.find((entry) => entry.partitionIndex === p)?.offset ?? 0))
      const groups = [this.settings.ingest.groupId]
      const [group] = await admin.listConsumerGroupOffsets({ groups })
      const topic = group?.topics.find((entry) => entry.name === this.settings.kafka.topic)
      const committed = partitions.map((p) => Number(
        topic?.partitions.find((entry) => entry.partitionIndex === p)?.committedOffset ?? -1))
      return { end, committed }
    } finally {
      await admin.close()
    }
  }

  /**
   * Asserts that the group commits, within `timeoutMs`, up to the end of every partition that
   * has messages: nothing would be read again by a new member.
   */
  async assertCommittedToEnd (ingest: Child, timeoutMs = 15_000): Promise<void> {
    let offsets = await this.offsets()
    const done = await eventually(async () => {
      offsets = await this.offsets()
      return offsets.end.every((end, p) => end === 0 || offsets.committed[p] === end)
    }, timeoutMs, 500)
    assert.ok(done, `ingest should commit up to the end of every partition: ` +
      `${JSON.stringify(offsets)}\n${describeExit(ingest)}`)
  }

  /**
   * The end-to-end promise: Kafka holds each sample produced once, and each is stored once in
   * query results, nothing went to the dead letters, and every agent run's seq starts at 0
   * with no gap. Prints the counts.
   */
  async assertExactlyStored (t: TestContext, produced: number, label: string): Promise<Counts> {
    const counts = await this.counts()
    const { end } = await this.offsets()
    t.diagnostic(`${label}: produced ${produced}, stored ${counts.samples} samples / ` +
      `${counts.events} events (FINAL), dead-lettered ${counts.deadLetters}, ` +
      `duplicates seen before merge ${counts.samplesRaw - counts.samples} samples / ` +
      `${counts.eventsRaw - counts.events} events, agent runs ${counts.runs.length}`)
    assert.equal(end.reduce((a, b) => a + b, 0), produced, 'Kafka should hold each sample once')
    assert.equal(counts.deadLetters, 0, 'nothing should be dead-lettered')
    assert.equal(counts.samples, produced, 'every sample produced should be stored')
    assert.equal(counts.events, produced, 'every message should be stored once in events FINAL')
    assert.equal(counts.samples, counts.distinctSamples, 'no sample twice in FINAL results')
    for (const run of counts.runs) {
      const name = `${run.host} started ${run.agentStartedAt}`
      assert.equal(run.minSeq, 0, `${name}: seq should start at 0`)
      assert.equal(run.distinctSeq, run.maxSeq + 1, `${name}: no gap in seq`)
      assert.equal(run.samples, run.distinctSeq, `${name}: one row per seq`)
    }
    return counts
  }

  /** Members of the ingest group and the partitions each one holds. */
  async members (): Promise<number[][]> {
    const admin = this.#admin()
    try {
      const groups = await admin.describeGroups({ groups: [this.settings.ingest.groupId] })
      const group = groups.get(this.settings.ingest.groupId)
      if (group === undefined || group.state !== 'STABLE') return []
      return [...group.members.values()].map((member) => [...(member.assignments?.values() ?? [])]
        .flatMap((assignment) => assignment.partitions).sort((a, b) => a - b))
    } finally {
      await admin.close()
    }
  }

  #admin (): Admin {
    return new Admin({ clientId: 'fault-test', bootstrapBrokers: this.settings.kafka.brokers })
  }

  /** Waits until both sample tables hold at least `produced` samples; false on timeout. */
  async storedAtLeast (produced: number, timeoutMs: number): Promise<boolean> {
    return await eventually(async () => {
      const counts = await this.counts().catch(() => undefined)
      return counts !== undefined && counts.samples >= produced && counts.events >= produced
    }, timeoutMs, 500)
  }
}

export interface RunCounts {
  host: string
  agentStartedAt: number
  samples: number
  distinctSeq: number
  minSeq: number
  maxSeq: number
}

export interface Counts {
  samples: number // host_samples FINAL
  samplesRaw: number // host_samples without FINAL: copies not merged away yet
  distinctSamples: number // uniqExact(host_id, seq, agent_started_at)
  events: number // events FINAL
  eventsRaw: number
  deadLetters: number
  runs: RunCounts[] // per (host_id, agent_started_at)
}

/**
 * Counted load from a simulated fleet, published in process: one round (a sample of every
 * host) every `everyMs`. Sample times advance one interval a round from an hour ago, so they
 * are valid whatever the pace.
 */
export class Load {
  readonly fleet: SimulatedHost[]
  readonly publisher: Publisher
  produced = 0
  #running: Promise<void> | undefined
  #stopping = false

  constructor (settings: Settings, hosts: number, seed: number) {
    this.fleet = createFleet(hosts, { seed, intervalMs: 1000 })
    this.publisher = new Publisher({
      connection: kafkaConnection(settings.kafka, 'fault-load'),
      topic: settings.kafka.topic,
      partition: -1,
      compression: 'lz4',
      bufferMaxSamples: 100_000,
      log
    })
  }

  start (everyMs: number): void {
    this.publisher.start()
    const first = Date.now() - 3_600_000
    this.#running = (async () => {
      for (let round = 0; !this.#stopping; round++) {
        for (const host of this.fleet) {
          this.publisher.publish(host.sample(first + round * 1000))
          this.produced++
        }
        await sleep(everyMs)
      }
    })()
  }

  /** Stops publishing, delivers what is buffered and returns how many samples were produced. */
  async stop (timeoutMs = 60_000): Promise<number> {
    this.#stopping = true
    await this.#running
    const undelivered = await this.publisher.stop(timeoutMs)
    assert.equal(undelivered, 0, 'the load publisher should deliver everything it produced')
    return this.produced
  }
}

/**
 * Waits up to `windowMs` for a batch caught half-written: sample rows of it inserted, its raw
 * events (inserted last) not yet. Says which moment the kill gets.
 */
export async function waitForBatchInFlight (rig: Rig, windowMs: number): Promise<string> {
  const raw = async (): Promise<[number, number]> => {
    const rows = await rig.store.query<{ samples: string, events: string }>(`SELECT
      (SELECT count() FROM ${rig.store.table('host_samples')}) AS samples,
      (SELECT count() FROM ${rig.store.table('events')}) AS events`)
    return [Number(rows[0].samples), Number(rows[0].events)]
  }
  const [samples0, events0] = await raw()
  const deadline = Date.now() + windowMs
  while (Date.now() < deadline) {
    const [samples, events] = await raw()
    if (samples - samples0 > events - events0) return 'a batch half-written'
    await sleep(20)
  }
  return 'a random moment'
}

/** Whether a child is still running. */
export function alive (child: Child): boolean {
  return child.process.exitCode === null && child.process.signalCode === null
}

/** A child's state and its warnings and errors (its last lines if it had none), for messages. */
export function describeExit (child: Child): string {
  const lines = child.output().stderr.split('\n')
  const notable = lines.filter((line) => /"level":[456]0/.test(line))
  const shown = (notable.length > 0 ? notable : lines).slice(-15).map((line) => line.slice(0, 600))
  return `${child.name}: exit code ${child.process.exitCode}, signal ${child.process.signalCode}\n` +
    shown.join('\n')
}

/**
 * Stops a child with a signal once it is up (a signal before its handler is in place would
 * just kill it) and returns its run; an ingest must write and commit what it holds first.
 */
export async function terminate (child: Child, signal: NodeJS.Signals = 'SIGTERM'): Promise<Run> {
  await eventually(async () => /"msg":"(ingest|agent) started"/.test(child.output().stderr) ||
    !alive(child), 30_000, 100)
  child.process.kill(signal)
  return await child.exited
}

/** How often a logged event appears in a child's output. */
export function occurrences (child: Child, event: string): number {
  return child.output().stderr.split(`"event":"${event}"`).length - 1
}

export function seconds (ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`
}
