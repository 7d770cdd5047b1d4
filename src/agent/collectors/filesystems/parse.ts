/**
 * /proc/self/mounts (proc(5), the fstab(5) format): one line per mount,
 *
 *   /dev/vda / ext4 rw,relatime 0 0
 *   device  mount point  filesystem type  options  dump  fsck pass
 *
 * The kernel escapes space, tab, newline and backslash in the device and mount point as octal
 * `\040`, `\011`, `\012` and `\134`. The same device can appear several times (bind mounts,
 * btrfs subvolumes), and later lines can hide earlier ones mounted at the same point.
 */
export interface Mount {
  device: string
  mount: string
  fsType: string
  options: string[]
}

export function parseMounts (text: string): Mount[] {
  const mounts: Mount[] = []
  for (const line of text.split('\n')) {
    const [device, mount, fsType, options] = line.trim().split(/\s+/)
    if (device === undefined || mount === undefined || fsType === undefined) continue
    mounts.push({
      device: unescapeOctal(device),
      mount: unescapeOctal(mount),
      fsType,
      options: options === undefined ? [] : options.split(',')
    })
  }
  return mounts
}

export function unescapeOctal (text: string): string {
  return text.replace(/\\([0-7]{3})/g,
    (_, octal: string) => String.fromCharCode(parseInt(octal, 8)))
}
