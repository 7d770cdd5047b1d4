import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

export const vitalsBin = fileURLToPath(new URL('../../bin/vitals.js', import.meta.url))

export interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs the vitals command to completion. */
export async function runVitals (args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<Run> {
  const child = startVitals(args, env)
  const timer = setTimeout(() => child.process.kill('SIGKILL'), timeoutMs)
  try {
    return await child.exited
  } finally {
    clearTimeout(timer)
  }
}

export interface Started {
  process: ChildProcess
  output: () => { stdout: string, stderr: string }
  exited: Promise<Run>
}

/** Starts the vitals command and collects its output; `exited` resolves when it ends. */
export function startVitals (args: string[], env: NodeJS.ProcessEnv = {}): Started {
  const child = spawn(process.execPath, [vitalsBin, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const exited = once(child, 'exit').then(([code]) => ({ code: code as number | null, stdout, stderr }))
  return { process: child, output: () => ({ stdout, stderr }), exited }
}

/** Settings of `settings` as the environment variables the CLI reads. */
export function envFor (settings: { kafka: { brokers: string[], topic: string, deadLetterTopic: string },
  clickhouse: { url: string, user: string, password: string, database: string } }): NodeJS.ProcessEnv {
  return {
    VITALS_KAFKA_BROKERS: settings.kafka.brokers.join(','),
    VITALS_TOPIC: settings.kafka.topic,
    VITALS_DLQ_TOPIC: settings.kafka.deadLetterTopic,
    VITALS_CLICKHOUSE_URL: settings.clickhouse.url,
    VITALS_CLICKHOUSE_USER: settings.clickhouse.user,
    VITALS_CLICKHOUSE_PASSWORD: settings.clickhouse.password,
    VITALS_CLICKHOUSE_DATABASE: settings.clickhouse.database
  }
}
