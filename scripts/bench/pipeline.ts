import { createFleet } from '../../src/agent/simulate.ts'
import { startIngest } from '../../src/cli/commands/ingest.ts'
import type { Ingest } from '../../src/ingest/index.ts'
import { componentLogger } from '../../src/log.ts'
import type { StackState } from '../../src/stack/index.ts'
import { Store } from '../../src/store/index.ts'
import { measureAgentProcess, type AgentProcessCost } from './agent-process.ts'
import {
  drain, fillTopic, tableRows, type DrainResult, type FillResult
} from './ingest-rate.ts'
import { measureLatency, type LatencyResult } from './latency.ts'
import { cpuMsOf } from './proc.ts'
import type { Part } from './report.ts'
import { benchSettings, withStack, type Say } from './stack.ts'
import { cpuMs, fixed, since, whole } from './stats.ts'

export interface PipelineOptions {
  hosts: number
  samplesPerHost: number
  latencySamples: number
}

export interface PipelineResult {
  clickhouseVersion: string
  partitions: number
  maxBatchRows: number
  maxBatchMs: number
  stackStartMs: number
  stackStopMs: number
  fill: FillResult
  drain: DrainResult
  /** CPU time each process used while the fill was being ingested */
  drainCpuMs: { ingest: number, kafka: number, clickhouse: number }
  tables: Record<string, number>
  latency: LatencyResult
  /** the real agent process, measured against this stack before anything else ran on it */
  agentProcess: Part<AgentProcessCost>
}

/**
 * The pipeline part: a stack of its own; first the real agent process publishing to it while the
 * stack is otherwise idle; then a topic filled before ingest starts (so the rate is ingest's
 * alone, not the producer's), then single samples through the running ingest.
 */
export async function measurePipeline (options: PipelineOptions, say: Say):
  Promise<PipelineResult> {
  const { result, startMs, stopMs } = await withStack(say, async (state) => {
    const settings = benchSettings(state)
    const log = componentLogger('bench')
    // Hosts of the latency part come after those of the fill, so their ids are new to the table.
    const fleet = createFleet(options.hosts + options.latencySamples,
      { seed: 1, intervalMs: settings.agent.intervalMs })

    let started = Date.now()
    say('running the agent process')
    const agentProcess = await measureAgentProcess(settings, say).catch((error: Error) => {
      say(`the agent process failed: ${error.stack ?? error.message}`)
      return { error: error.message.split('\n')[0] ?? String(error) }
    })
    say(`agent process done in ${since(started)}`)

    started = Date.now()
    say(`publishing ${whole(options.hosts * options.samplesPerHost)} simulated samples`)
    const fill = await fillTopic(settings, fleet.slice(0, options.hosts),
      options.samplesPerHost, log)
    say(`published in ${since(started)} (${fill.undelivered} undelivered)`)

    const query = await Store.connect(settings.clickhouse)
    let running: { ingest: Ingest, store: Store } | undefined
    try {
      started = Date.now()
      say('ingesting')
      running = await startIngest(settings, log)
      const cpuBefore = await stackCpu(state)
      const drained = await drain(running.ingest, fill.events - fill.undelivered, started,
        Date.now())
      const cpuAfter = await stackCpu(state)
      say(`stored ${whole(drained.stored)} events in ${fixed(drained.drainMs / 1000, 1)} s ` +
        `after a ${fixed(drained.startupMs / 1000, 1)} s start`)
      if (drained.failure !== undefined) throw new Error(`ingest failed: ${drained.failure}`)
      const tables = await tableRows(query)

      started = Date.now()
      say(`publishing ${options.latencySamples} single samples, one every 100 ms`)
      const latency = await measureLatency(settings, query, fleet.slice(options.hosts), log)
      say(`${latency.visible} of ${latency.published} visible, median ` +
        `${fixed(latency.medianMs, 0)} ms, in ${since(started)}`)

      const version = await query.query<{ v: string }>('SELECT version() AS v')
      return {
        clickhouseVersion: version[0]?.v ?? '?',
        partitions: settings.kafka.partitions,
        maxBatchRows: settings.ingest.maxBatchRows,
        maxBatchMs: settings.ingest.maxBatchMs,
        fill,
        drain: drained,
        drainCpuMs: {
          ingest: cpuAfter.ingest - cpuBefore.ingest,
          kafka: cpuAfter.kafka - cpuBefore.kafka,
          clickhouse: cpuAfter.clickhouse - cpuBefore.clickhouse
        },
        tables,
        latency,
        agentProcess
      }
    } finally {
      await running?.ingest.stop()
      await running?.store.close()
      await query.close()
    }
  })
  return { ...result, stackStartMs: startMs, stackStopMs: stopMs }
}

/** CPU ms used so far by this process (which runs the ingest) and by the two servers. */
async function stackCpu (state: StackState):
  Promise<{ ingest: number, kafka: number, clickhouse: number }> {
  return {
    ingest: cpuMs(process.cpuUsage()),
    kafka: await cpuMsOf(state.pids.kafka),
    clickhouse: await cpuMsOf(state.pids.clickhouse)
  }
}
