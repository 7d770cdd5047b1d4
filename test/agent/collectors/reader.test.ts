import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createFsReader } from '../../../src/agent/collectors/index.ts'
import { fixtureRoot } from '../helpers.ts'

test('the fs reader should read absolute paths under its root', async () => {
  const reader = createFsReader({ root: fixtureRoot('debian12-vm') })
  assert.equal(await reader.readFile('/proc/sys/kernel/hostname'), 'vm\n')
})

test('the fs reader should reject a file missing under its root', async () => {
  const reader = createFsReader({ root: fixtureRoot('rhel4-kernel-2.6.9') })
  await assert.rejects(reader.readFile('/proc/net/dev'), { code: 'ENOENT' })
})

test('the fs reader should statfs a real directory into block counts', async () => {
  const stats = await createFsReader().statfs('/')

  assert.ok(stats.bsize > 0)
  assert.ok(stats.blocks > 0)
  assert.ok(stats.bfree <= stats.blocks && stats.bavail <= stats.bfree)
  assert.deepEqual(Object.keys(stats).sort(),
    ['bavail', 'bfree', 'blocks', 'bsize', 'ffree', 'files'])
})
