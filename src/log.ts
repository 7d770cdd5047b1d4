import { pino, type Logger, type LevelWithSilent } from 'pino'

export type { Logger }

/**
 * Keys whose values are secrets. pino replaces them wherever they appear in a logged object, so
 * a password handed to a child logger or an error context never reaches the output.
 */
const redactPaths = [
  'password', '*.password', '*.*.password',
  'sasl.password', '*.sasl.password',
  'authorization', '*.authorization', 'headers.authorization'
]

let root: Logger | undefined

/** The process-wide logger: JSON to stderr, so stdout stays free for command output. */
export function rootLogger (): Logger {
  root ??= pino({
    level: process.env.VITALS_LOG_LEVEL ?? 'info',
    base: { pid: process.pid },
    redact: { paths: redactPaths, censor: '[redacted]' }
  }, pino.destination({ fd: 2, sync: false }))
  return root
}

export function setLogLevel (level: LevelWithSilent): void {
  rootLogger().level = level
}

export function componentLogger (component: string, bindings: Record<string, unknown> = {}): Logger {
  return rootLogger().child({ component, ...bindings })
}

/** Flushes buffered log lines before the process exits. */
export function flushLogs (): void {
  root?.flush()
}
