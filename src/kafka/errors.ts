import { anyInChain, wrappedErrors } from '../errors.ts'

/**
 * What actually went wrong in a Kafka client error. The client wraps failures in layers ("metadata
 * failed 4 times.") whose innermost errors hold the cause an operator can act on ("SASL
 * authentication failed", "connect ECONNREFUSED"); this walks down to them.
 */
export function kafkaErrorCause (error: unknown): string {
  const causes = new Set<string>()
  const visit = (node: unknown, depth: number): void => {
    if (depth > 6 || typeof node !== 'object' || node === null) return
    const inner = wrappedErrors(node)
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
  return anyInChain(error, (node) => node.apiId === 'MESSAGE_TOO_LARGE')
}
