import type { Filesystem } from '../../../event/schema.ts'
import type { Collector } from '../collector.ts'
import type { FsStats, OsReader } from '../reader.ts'
import { parseMounts, type Mount } from './parse.ts'

/**
 * Filesystem types that hold no disk space an operator would watch: kernel interfaces, memory
 * (tmpfs, ramfs: their size is a limit, the memory family already counts what they use), and
 * squashfs, read-only images (snaps) that are always 100% full.
 */
export const pseudoFsTypes: ReadonlySet<string> = new Set([
  'autofs', 'binfmt_misc', 'bpf', 'cgroup', 'cgroup2', 'configfs', 'debugfs', 'devpts',
  'devtmpfs', 'efivarfs', 'fusectl', 'fuse.lxcfs', 'hugetlbfs', 'mqueue', 'nfsd', 'nsfs', 'proc',
  'pstore', 'ramfs', 'rootfs', 'rpc_pipefs', 'securityfs', 'selinuxfs', 'squashfs', 'sysfs',
  'tmpfs', 'tracefs'
])

/**
 * The mounts worth a statfs: real filesystems, each device once.
 *
 * overlay is kept only at `/`: inside a container that is the disk the workload writes to. On a
 * Docker host every container adds an overlay mount whose space is that of the host filesystem
 * under /var/lib/docker, already reported, so those are skipped.
 *
 * A device mounted twice (bind mounts, btrfs subvolumes, a container's /etc/hosts) has the same
 * space at every mount point: it is reported once, at its shortest mount point as `df` does.
 * A mount hidden by a later one at the same point is skipped: statfs would only reach the top one.
 */
export function selectMounts (mounts: Mount[]): Mount[] {
  const top = new Map(mounts.map((mount) => [mount.mount, mount]))
  const byDevice = new Map<string, Mount>()
  for (const mount of mounts) {
    if (top.get(mount.mount) !== mount) continue
    if (pseudoFsTypes.has(mount.fsType)) continue
    if (mount.fsType === 'overlay' && mount.mount !== '/') continue

    // 'none' names no device: such mounts cannot be told apart, so none is merged.
    const key = mount.device === 'none' ? `none ${mount.mount}` : mount.device
    const seen = byDevice.get(key)
    if (seen === undefined) {
      byDevice.set(key, mount)
    } else if (mount.mount.length < seen.mount.length) {
      // Map.set on an existing key keeps its place, so the output follows the mount table.
      byDevice.set(key, mount)
    }
  }
  return [...byDevice.values()]
}

export function filesystemFromStats (mount: Mount, stats: FsStats): Filesystem {
  return {
    mount: mount.mount,
    device: mount.device.slice(0, 4096),
    fsType: mount.fsType.slice(0, 64),
    sizeBytes: stats.blocks * stats.bsize,
    usedBytes: Math.max(0, stats.blocks - stats.bfree) * stats.bsize,
    availableBytes: stats.bavail * stats.bsize,
    inodesTotal: stats.files,
    inodesUsed: Math.max(0, stats.files - stats.ffree),
    inodesFree: stats.ffree
  }
}

export function createFilesystemsCollector (reader: OsReader): Collector<'filesystems'> {
  // The mount table seldom changes between samples: it is parsed again only when its text did.
  let table: { text: string, mounts: Mount[] } | undefined

  return {
    family: 'filesystems',
    async collect (): Promise<Filesystem[]> {
      const text = await reader.readFile('/proc/self/mounts')
        .catch(() => reader.readFile('/proc/mounts'))
      if (table?.text !== text) {
        // The event holds at most 1024 filesystems; past that, the first in mount order are kept.
        table = { text, mounts: selectMounts(parseMounts(text)).slice(0, 1024) }
      }
      const mounts = table.mounts

      // A mount that cannot be stat'ed (permissions, a stale network mount that errors) is
      // left out rather than failing every other filesystem with it. One that hangs holds up
      // the whole family until the sampler's timeout: there is no timeout per mount.
      const results = await Promise.allSettled(mounts.map((mount) => reader.statfs(mount.mount)))
      const filesystems: Filesystem[] = []
      results.forEach((result, i) => {
        const mount = mounts[i] as Mount
        if (result.status === 'fulfilled' && result.value.blocks > 0) {
          filesystems.push(filesystemFromStats(mount, result.value))
        }
      })
      return filesystems
    }
  }
}
