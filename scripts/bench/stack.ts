import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Settings } from '../../src/config/index.ts'
import { startStack, stopStack, type StackState } from '../../src/stack/index.ts'
import { isolatedSettingsFor } from '../../test/helpers/isolated.ts'
import { since } from './stats.ts'

export type Say = (line: string) => void

/**
 * Runs `work` against a stack of its own in a temporary folder, then stops the stack and removes
 * the folder whatever happened, also when the benchmark is interrupted with Ctrl-C.
 */
export async function withStack<T> (say: Say, work: (state: StackState) => Promise<T>):
  Promise<{ result: T, startMs: number, stopMs: number }> {
  const home = await mkdtemp(join(tmpdir(), 'vitals-bench-'))
  const stackHome = join(home, 'stack')
  let cleaning: Promise<void> | undefined
  const cleanup = (): Promise<void> => {
    cleaning ??= (async () => {
      await stopStack(stackHome, { timeoutMs: 30_000 }).catch((error: Error) => {
        say(`stopping the bench stack failed: ${error.message}`)
      })
      await rm(home, { recursive: true, force: true })
    })()
    return cleaning
  }
  const interrupted = (): void => { void cleanup().then(() => process.exit(130)) }
  process.once('SIGINT', interrupted)
  process.once('SIGTERM', interrupted)

  try {
    let started = Date.now()
    const { state } = await startStack({
      home: stackHome,
      onProgress: (line) => say(`stack: ${line}`)
    })
    const startMs = Date.now() - started
    const result = await work(state)
    started = Date.now()
    say('stopping the stack')
    await cleanup()
    say(`stack stopped and ${home} removed in ${since(started)}`)
    return { result, startMs, stopMs: Date.now() - started }
  } finally {
    await cleanup()
    process.off('SIGINT', interrupted)
    process.off('SIGTERM', interrupted)
  }
}

/** Settings pointing at `state`, with a topic, database and consumer group of their own. */
export function benchSettings (state: StackState): Settings {
  const settings = isolatedSettingsFor(state, 'vitals-bench')
  settings.ingest.maxBatchRows = 5000
  return settings
}
