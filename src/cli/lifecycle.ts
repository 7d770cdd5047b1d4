import type { Logger } from '../log.ts'

/**
 * A second signal this soon after the first is the same Ctrl+C arriving twice: the terminal
 * sends it to the whole process group and `npm start` forwards it to its child as well.
 */
const repeatWindowMs = 2000

/**
 * Resolves on the first SIGINT or SIGTERM, so a command can stop its parts in order. A second
 * signal while stopping exits at once, for an operator who does not want to wait.
 */
export function untilSignal (log: Logger): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let firstAt: number | undefined
    const handle = (signal: NodeJS.Signals) => {
      if (firstAt !== undefined) {
        if (Date.now() - firstAt < repeatWindowMs) {
          return
        }
        log.warn({ signal }, 'second signal: exiting without waiting')
        process.exit(130)
      }
      firstAt = Date.now()
      log.info({ signal }, 'stopping')
      resolve(signal)
    }
    process.on('SIGINT', handle)
    process.on('SIGTERM', handle)
  })
}

/** A signal that aborts once `stopping` resolves, for waits that should end with the command. */
export function abortedBy (stopping: Promise<unknown>): AbortSignal {
  const controller = new AbortController()
  void stopping.then(() => { controller.abort() })
  return controller.signal
}
