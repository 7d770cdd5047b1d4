import { componentLogger, type Logger } from '../log.ts'

/** Reports a lifecycle step once, to the structured log and to the human watching the CLI. */
export interface Progress {
  log: Logger
  say (message: string, fields?: Record<string, unknown>): void
}

export function progress (log?: Logger, onProgress?: (message: string) => void): Progress {
  const logger = log ?? componentLogger('stack')
  return {
    log: logger,
    say (message, fields = {}) {
      logger.info(fields, message)
      onProgress?.(message)
    }
  }
}

export function seconds (sinceMs: number): string {
  return `${((Date.now() - sinceMs) / 1000).toFixed(1)} s`
}
