import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  countCpus, osName, parseMachineId, parseOsRelease, readBootId, readHostIdentity
} from '../../../src/agent/collectors/host/index.ts'
import { fixtureReader, memoryReader } from '../helpers.ts'

test('readHostIdentity should read who a real machine is', async () => {
  const host = await readHostIdentity(fixtureReader('debian12-vm'),
    { agentVersion: '1.2.3', tags: { env: 'test' } })

  assert.deepEqual(host, {
    id: '3d1219c7c4c5404aaa1f6d2a48adfda4',
    name: 'vm',
    os: 'Debian GNU/Linux 12 (bookworm)',
    kernel: '6.18.44-fc-v1147',
    arch: process.arch,
    cpuCount: 2,
    agentVersion: '1.2.3',
    tags: { env: 'test' }
  })
})

test('a configured host id should replace the machine id', async () => {
  const host = await readHostIdentity(fixtureReader('debian12-vm'),
    { agentVersion: '1', hostId: 'web-1' })
  assert.equal(host.id, 'web-1')
})

test('the host id should fall back to the D-Bus machine id, then to the hostname', async () => {
  const files = {
    '/proc/sys/kernel/hostname': 'db-7\n',
    '/proc/stat': 'cpu  1 0 0 1\ncpu0 1 0 0 1\n',
    // systemd leaves the file empty until the machine id is set up
    '/etc/machine-id': '\n',
    '/var/lib/dbus/machine-id': 'ABCDEF0123456789ABCDEF0123456789\n'
  }
  const reader = memoryReader(files)
  assert.equal((await readHostIdentity(reader, { agentVersion: '1' })).id,
    'abcdef0123456789abcdef0123456789')

  delete (files as Record<string, string>)['/var/lib/dbus/machine-id']
  const host = await readHostIdentity(memoryReader(files), { agentVersion: '1' })
  assert.equal(host.id, 'db-7')
  // no os-release, no osrelease: what os-release(5) says to assume
  assert.equal(host.os, 'Linux')
  assert.equal(host.kernel, 'unknown')
  assert.equal(host.cpuCount, 1)
})

test('parseOsRelease should unquote values as the shell does', () => {
  const fields = parseOsRelease([
    '# comment',
    'NAME="Fedora Linux"',
    'VERSION=\'40 (Workstation Edition)\'',
    'ID=fedora',
    'PRETTY_NAME="Say \\"hi\\" \\$HOME"'
  ].join('\n'))

  assert.deepEqual(fields, {
    NAME: 'Fedora Linux',
    VERSION: '40 (Workstation Edition)',
    ID: 'fedora',
    PRETTY_NAME: 'Say "hi" $HOME'
  })
  assert.equal(osName({ NAME: 'Alpine Linux', VERSION: '3.20' }), 'Alpine Linux 3.20')
})

test('parseMachineId should refuse anything but 32 hex digits', () => {
  assert.equal(parseMachineId('uninitialized\n'), undefined)
  assert.equal(parseMachineId('3D1219C7C4C5404AAA1F6D2A48ADFDA4\n'),
    '3d1219c7c4c5404aaa1f6d2a48adfda4')
})

test('countCpus should count cpuN lines, not the total', () => {
  assert.equal(countCpus('cpu  4 0 0 4\ncpu0 1 0 0 1\ncpu1 1 0 0 1\ncpu3 2 0 0 2\n'), 3)
})

test('readBootId should read a real boot id', async () => {
  assert.equal(await readBootId(fixtureReader('debian12-vm')),
    '05da1a04-36ff-4869-abea-0034cdd053c1')
})
