import type { Logger } from '../log.ts'

/**
 * Resolves on the first SIGINT or SIGTERM, so a command can stop its parts in order. A second
 * signal while stopping exits at once, for an operator who does not want to wait.
 */
export function untilSignal (log: Logger): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received: NodeJS.Signals | undefined
    const handle = (signal: NodeJS.Signals) => {
      if (received !== undefined) {
        log.warn({ signal }, 'second signal: exiting without waiting')
        process.exit(130)
      }
      received = signal
      log.info({ signal }, 'stopping')
      resolve(signal)
    }
    process.on('SIGINT', handle)
    process.on('SIGTERM', handle)
  })
}
