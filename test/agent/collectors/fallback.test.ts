import { test } from 'node:test'
import assert from 'node:assert/strict'
import os from 'node:os'
import { Value } from '@sinclair/typebox/value'
import { Cpu, HostIdentity, Memory, Uptime } from '../../../src/event/schema.ts'
import {
  createOsCollectors, osBootId, osHostIdentity
} from '../../../src/agent/collectors/index.ts'

test('the node:os collectors should give schema-valid cpu, memory and uptime', async () => {
  const collectors = createOsCollectors()
  await collectors.cpu.collect()

  const cpu = await collectors.cpu.collect()
  assert.ok(Value.Check(Cpu, cpu), JSON.stringify([...Value.Errors(Cpu, cpu)][0]))
  assert.equal(cpu.cores, os.cpus().length)
  const memory = await collectors.memory.collect()
  assert.ok(Value.Check(Memory, memory))
  assert.equal(memory.totalBytes, os.totalmem())
  assert.ok(Value.Check(Uptime, await collectors.uptime.collect()))
})

test('the node:os collectors should report no filesystems and no interfaces', async () => {
  const collectors = createOsCollectors()
  assert.deepEqual(await collectors.filesystems.collect(), [])
  assert.deepEqual(await collectors.network.collect(), [])
})

test('the node:os identity should use the hostname as id and keep the boot id stable', () => {
  const host = osHostIdentity({ agentVersion: '1', tags: { a: 'b' } })
  assert.ok(Value.Check(HostIdentity, host))
  assert.equal(host.id, os.hostname())
  assert.equal(osBootId(), osBootId())
})
