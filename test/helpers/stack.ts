import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after } from 'node:test'
import type { Settings } from '../../src/config/index.ts'
import type { Ingest } from '../../src/ingest/index.ts'
import { startStack, stopStack, type StackState } from '../../src/stack/index.ts'
import type { Store } from '../../src/store/index.ts'
import { isolatedSettingsFor } from './isolated.ts'

let own: Promise<StackState> | undefined
let ownHome: string | undefined

// Registered while the test file is being loaded, so it runs once after all of the file's tests.
after(async () => {
  if (ownHome === undefined) return
  await stopStack(ownHome, { timeoutMs: 30_000 })
  await rm(ownHome, { recursive: true, force: true })
})

/**
 * The stack integration tests run against: the one `npm test` started (VITALS_TEST_STACK), or,
 * when a test file runs on its own, a stack of its own that is stopped after the file.
 */
export async function testStack (): Promise<StackState> {
  const shared = process.env.VITALS_TEST_STACK
  if (shared !== undefined && shared !== '') {
    return JSON.parse(shared) as StackState
  }
  own ??= (async () => {
    ownHome = await mkdtemp(join(tmpdir(), 'vitals-test-'))
    return (await startStack({ home: ownHome })).state
  })()
  return await own
}

/** Settings pointing at the test stack, with a topic, database and group of their own. */
export async function isolatedSettings (overrides: (settings: Settings) => void = () => {}):
  Promise<Settings> {
  const settings = isolatedSettingsFor(await testStack(), 'vitals-test')
  settings.ingest.maxBatchMs = 200
  overrides(settings)
  return settings
}

/** Polls `probe` until it returns true or `timeoutMs` passes; returns the last answer. */
export async function eventually (probe: () => Promise<boolean>, timeoutMs = 30_000,
  everyMs = 250): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await probe()) return true
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
  return await probe()
}

/**
 * Stops an ingest a test started in-process and closes its store, then drops the test's
 * database through the test's own store. Any of them may be missing if the setup failed.
 */
export async function stopIngestAndDrop (ingest: Ingest | undefined, ingestStore: Store | undefined,
  store: Store | undefined, database: string): Promise<void> {
  await ingest?.stop(5000)
  await ingestStore?.close()
  if (store !== undefined) {
    await store.command(`DROP DATABASE IF EXISTS ${database}`)
    await store.close()
  }
}
