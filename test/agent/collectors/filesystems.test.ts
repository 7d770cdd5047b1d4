import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  createFilesystemsCollector, parseMounts, selectMounts, unescapeOctal
} from '../../../src/agent/collectors/filesystems/index.ts'
import type { FsStats } from '../../../src/agent/collectors/index.ts'
import { fixtureReader, memoryReader, vdaStats } from '../helpers.ts'

const mountsOf = async (machine: string) =>
  parseMounts(await fixtureReader(machine).readFile('/proc/self/mounts'))

const small: FsStats = {
  bsize: 1024, blocks: 1000, bfree: 400, bavail: 300, files: 100, ffree: 60
}

test('parseMounts should read device, mount point, type and options of each line', async () => {
  const mounts = await mountsOf('debian12-vm')

  assert.equal(mounts.length, 19)
  assert.deepEqual(mounts[5], {
    device: '/dev/vda',
    mount: '/',
    fsType: 'ext4',
    options: ['rw', 'relatime', 'discard', 'resv_strict', 'resuid=65534', 'resgid=65534']
  })
})

test('parseMounts should decode octal escapes in mount points', async () => {
  const mounts = await mountsOf('container')
  assert.ok(mounts.some((mount) => mount.mount === '/srv/My Data'))
  assert.equal(unescapeOctal('a\\040b\\011c\\134d\\012'), 'a b\tc\\d\n')
})

test('selectMounts should keep only the root disk of a real VM, skipping pseudo filesystems',
  async () => {
    assert.deepEqual(selectMounts(await mountsOf('debian12-vm')).map((mount) => mount.mount), ['/'])
  })

test('selectMounts should keep a container\'s overlay root and its bind-mounted device once',
  async () => {
    const selected = selectMounts(await mountsOf('container'))

    assert.deepEqual(selected.map((mount) => [mount.device, mount.mount, mount.fsType]), [
      ['overlay', '/', 'overlay'],
      // /etc/resolv.conf, /etc/hostname and /etc/hosts are one device: the shortest path wins
      ['/dev/vda1', '/etc/hosts', 'ext4'],
      ['/dev/vdb', '/srv/My Data', 'ext4']
    ])
  })

test('selectMounts on a Docker host should skip container overlays, squashfs and tmpfs',
  async () => {
    const selected = selectMounts(await mountsOf('docker-host'))

    assert.deepEqual(selected.map((mount) => mount.mount), [
      '/', '/boot/efi',
      // /dev/sdb1 is mounted at '/srv/backup disk' and '/var/lib/backup'
      '/var/lib/backup',
      '/home'
    ])
  })

test('selectMounts should skip a mount hidden by a later one at the same point', () => {
  const selected = selectMounts(parseMounts([
    '/dev/sdc1 /data ext4 rw 0 0',
    '/dev/sdd1 /data xfs rw 0 0'
  ].join('\n')))
  assert.deepEqual(selected.map((mount) => mount.device), ['/dev/sdd1'])
})

test('the filesystems collector should turn statfs blocks into bytes and inodes', async () => {
  const statted: string[] = []
  const reader = fixtureReader('debian12-vm', async (path) => {
    statted.push(path)
    return vdaStats
  })

  const filesystems = await createFilesystemsCollector(reader).collect()

  assert.deepEqual(statted, ['/'])
  assert.deepEqual(filesystems, [{
    mount: '/',
    device: '/dev/vda',
    fsType: 'ext4',
    sizeBytes: 66053021 * 4096,
    usedBytes: (66053021 - 62786808) * 4096,
    availableBytes: 20609103 * 4096,
    inodesTotal: 16777216,
    inodesUsed: 16777216 - 16358475,
    inodesFree: 16358475
  }])
})

test('a statfs that fails for one mount should leave out only that mount', async () => {
  const reader = fixtureReader('container', async (path) => {
    if (path === '/etc/hosts') throw new Error('EACCES: permission denied')
    return small
  })

  const filesystems = await createFilesystemsCollector(reader).collect()
  assert.deepEqual(filesystems.map((fs) => fs.mount), ['/', '/srv/My Data'])
  assert.equal(filesystems[1]?.usedBytes, 600 * 1024)
})

test('a filesystem of zero size should be left out', async () => {
  const reader = fixtureReader('container',
    async (path) => path === '/' ? { ...small, blocks: 0, bfree: 0, bavail: 0 } : small)

  const filesystems = await createFilesystemsCollector(reader).collect()
  assert.deepEqual(filesystems.map((fs) => fs.mount), ['/etc/hosts', '/srv/My Data'])
})

test('the filesystems collector should fall back to /proc/mounts', async () => {
  const reader = memoryReader({ '/proc/mounts': '/dev/sda1 / xfs rw 0 0\n' }, async () => small)
  const filesystems = await createFilesystemsCollector(reader).collect()
  assert.deepEqual(filesystems.map((fs) => fs.device), ['/dev/sda1'])
})

test('a filesystem mounted or unmounted between samples should show in the next sample', async () => {
  const root = '/dev/sda1 / xfs rw 0 0\n'
  const reader = memoryReader({ '/proc/self/mounts': root }, async () => small)
  const collector = createFilesystemsCollector(reader)
  const mountsNow = async () => (await collector.collect()).map((fs) => fs.mount)

  assert.deepEqual(await mountsNow(), ['/'])
  reader.files['/proc/self/mounts'] = `${root}/dev/sdb1 /data ext4 rw 0 0\n`
  assert.deepEqual(await mountsNow(), ['/', '/data'])
  assert.deepEqual(await mountsNow(), ['/', '/data'])
  reader.files['/proc/self/mounts'] = root
  assert.deepEqual(await mountsNow(), ['/'])
})
