/**
 * Kafka refuses a record batch larger than the topic's `max.message.bytes` (1 MiB by default),
 * and a client puts all of one send's messages for a partition into one batch. Sends are
 * therefore cut into chunks well below that, counting the uncompressed size.
 */
export const maxChunkBytes = 512 * 1024

export function chunkBySize<T> (items: T[], sizeOf: (item: T) => number,
  limit = maxChunkBytes, maxItems = Number.POSITIVE_INFINITY): T[][] {
  const chunks: T[][] = []
  let current: T[] = []
  let bytes = 0
  for (const item of items) {
    const size = sizeOf(item)
    if (current.length > 0 && (bytes + size > limit || current.length >= maxItems)) {
      chunks.push(current)
      current = []
      bytes = 0
    }
    current.push(item)
    bytes += size
  }
  if (current.length > 0) chunks.push(current)
  return chunks
}
