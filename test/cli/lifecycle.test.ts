import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'

const child = fileURLToPath(new URL('../fixtures/cli/slow-stop.ts', import.meta.url))

/** Starts a command whose stop takes `stopMs`, and sends it SIGINT twice, `gapMs` apart. */
async function signalTwice (stopMs: number, gapMs: number): Promise<{ code: number | null, stdout: string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, String(stopMs)],
    { stdio: ['ignore', 'pipe', 'ignore'] })
  let stdout = ''
  proc.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  while (!stdout.includes('ready')) await sleep(20)
  const exited = once(proc, 'exit')
  proc.kill('SIGINT')
  await sleep(gapMs)
  proc.kill('SIGINT')
  const [code] = await exited
  return { code: code as number | null, stdout }
}

describe('signals', { timeout: 30_000 }, () => {
  it('a Ctrl+C delivered twice at once (by the terminal and by npm) should stop cleanly', async () => {
    const run = await signalTwice(500, 50)
    assert.equal(run.code, 0)
    assert.match(run.stdout, /stopped cleanly/)
  })

  it('a second Ctrl+C seconds after the first should cut a long stop short', async () => {
    const run = await signalTwice(6000, 2500)
    assert.equal(run.code, 130)
    assert.doesNotMatch(run.stdout, /stopped cleanly/)
  })
})
