/**
 * What actually went wrong in a Kafka client error. The client wraps failures in layers ("metadata
 * failed 4 times.") whose innermost errors hold the cause an operator can act on ("SASL
 * authentication failed", "connect ECONNREFUSED"); this walks down to them.
 */
export function kafkaErrorCause (error: unknown): string {
  const causes = new Set<string>()
  const visit = (node: unknown, depth: number): void => {
    if (depth > 6 || typeof node !== 'object' || node === null) return
    const inner = [...((node as { errors?: unknown[] }).errors ?? []), (node as { cause?: unknown }).cause]
      .filter((child) => child !== undefined && child !== null)
    if (inner.length === 0) {
      const message = (node as { message?: unknown }).message
      if (typeof message === 'string' && message !== '') causes.add(message)
      return
    }
    for (const child of inner) visit(child, depth + 1)
  }
  visit(error, 0)
  const top = error instanceof Error ? error.message : String(error)
  return causes.size === 0 ? top : [...causes].slice(0, 3).join('; ')
}

/** Whether the broker refused a record batch for its size (`message.max.bytes`). */
export function isMessageTooLarge (error: unknown): boolean {
  const visit = (node: unknown, depth: number): boolean => {
    if (depth > 6 || typeof node !== 'object' || node === null) return false
    if ((node as { apiId?: unknown }).apiId === 'MESSAGE_TOO_LARGE') return true
    const inner = [...((node as { errors?: unknown[] }).errors ?? []), (node as { cause?: unknown }).cause]
    return inner.some((child) => visit(child, depth + 1))
  }
  return visit(error, 0)
}
