import { parseArgs, type ParseArgsConfig } from 'node:util'
import { loadSettings, type Settings } from '../config/index.ts'
import { ConfigError, ErrorCodes, UserError } from '../errors.ts'
import { setLogLevel } from '../log.ts'
import type { LevelWithSilent } from 'pino'

/** Options every command that reads settings accepts. */
export const settingsOptions = {
  config: { type: 'string' },
  set: { type: 'string', multiple: true },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' }
} as const satisfies ParseArgsConfig['options']

export function parseCommand<T extends NonNullable<ParseArgsConfig['options']>> (
  command: string, argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true })
  } catch (error) {
    const message = (error as Error).message.replace(/\. To specify a positional.*$/s, '')
    throw new UserError(ErrorCodes.USAGE, `${command}: ${message}`)
  }
}

/** Settings from the config file, the environment and flags; `extra` are flag-given keys. */
export function settingsFrom (values: { config?: string, set?: string[], 'log-level'?: string },
  extra: string[] = []): Readonly<Settings> {
  const overrides = [...(values.set ?? []), ...extra]
  if (values['log-level'] !== undefined) {
    overrides.push(`log.level=${values['log-level']}`)
  }
  const settings = loadSettings({ file: values.config, overrides })
  setLogLevel(settings.log.level as LevelWithSilent)
  return settings
}

/**
 * A command that prints its own progress for a person logs only warnings and errors while it
 * runs in a terminal, unless a log level was asked for: its info lines would repeat what it prints.
 */
export function quietInTerminal (values: { 'log-level'?: string }, settings: Readonly<Settings>,
  terminal = process.stderr.isTTY === true): void {
  if (terminal && values['log-level'] === undefined && process.env.VITALS_LOG_LEVEL === undefined &&
    settings.log.level === 'info') {
    setLogLevel('warn')
  }
}

/** `10s`, `1m`, `500ms` or a bare number of milliseconds. */
export function parseDuration (flag: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim())
  if (match === null) {
    throw new ConfigError(flag, `expected a duration like 10s, 1m or 500ms, got ${JSON.stringify(text)}`)
  }
  const scale = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? 'ms'] ?? 1
  return Math.round(Number(match[1]) * scale)
}

export function parseCount (flag: string, text: string, min: number, max: number): number {
  const value = Number(text)
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(flag, `expected a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`)
  }
  return value
}
