/**
 * The test command. Starts one local stack (Kafka and ClickHouse on free ports, in a temporary
 * folder) for the integration tests to share, runs every test file with node's test runner,
 * then stops the stack and removes the folder, whatever the tests did.
 */
import { spawn } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { startStack, stopStack } from '../src/stack/index.ts'

const root = new URL('..', import.meta.url).pathname
const requested = process.argv.slice(2)

function testFiles (dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return name === 'fixtures' ? [] : testFiles(path)
    return name.endsWith('.test.ts') ? [relative(root, path)] : []
  }).sort()
}

const files = requested.length > 0 ? requested : testFiles(join(root, 'test'))
const home = await mkdtemp(join(tmpdir(), 'vitals-test-'))
let code = 1

const cleanup = async () => {
  await stopStack(join(home, 'stack'), { timeoutMs: 30_000 }).catch((error: Error) => {
    process.stderr.write(`stopping the test stack failed: ${error.message}\n`)
  })
  await rm(home, { recursive: true, force: true })
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => { void cleanup().then(() => process.exit(130)) })
}

try {
  const { state } = await startStack({
    home: join(home, 'stack'),
    onProgress: (line) => process.stderr.write(`test stack: ${line}\n`)
  })
  const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...files], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, VITALS_TEST_STACK: JSON.stringify(state), VITALS_HOME: join(home, 'home') }
  })
  code = await new Promise<number>((resolve) => child.on('exit', (exit) => resolve(exit ?? 1)))
} finally {
  await cleanup()
}
process.exit(code)
