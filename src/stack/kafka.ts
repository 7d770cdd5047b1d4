import { createHash } from 'node:crypto'
import { access, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Admin } from '@platformatic/kafka'
import type { Logger } from '../log.ts'
import { canConnect, LOOPBACK } from './ports.ts'
import { run, spawnDetached } from './process.ts'
import { progress, seconds, type Progress } from './progress.ts'
import type { SecureListener } from './security.ts'
import { defaultCacheDir, type StackPorts } from './state.ts'
import { requireTool, type Tool } from './tools.ts'

// Keep in step with kafka.version in pom.xml.
export const KAFKA_VERSION = '4.1.1'

const defaultPom = fileURLToPath(new URL('../../pom.xml', import.meta.url))

export interface KafkaJarsOptions {
  cacheDir?: string // default $VITALS_CACHE_DIR, else ${XDG_CACHE_HOME:-~/.cache}/vitals
  pomPath?: string
  log?: Logger
  onProgress?: (message: string) => void
}

/**
 * Makes sure the broker's jars are in the cache and returns their folder. Kafka ships no Debian
 * or npm package, so Maven fetches them from Maven Central once. The marker records a hash of
 * pom.xml: a changed pom fetches again into an empty folder, so no two versions of a jar ever
 * share the classpath.
 */
export async function ensureKafkaJars (options: KafkaJarsOptions = {}): Promise<string> {
  const report = progress(options.log, options.onProgress)
  const root = join(options.cacheDir ?? defaultCacheDir(), `kafka-${KAFKA_VERSION}`)
  const libs = join(root, 'libs')
  const marker = join(root, 'fetched.sha256')
  const pom = options.pomPath ?? defaultPom
  const pomHash = createHash('sha256').update(await readFile(pom)).digest('hex')

  if (await readFile(marker, 'utf8').catch(() => '') === pomHash) return libs

  const mvn = await requireTool('mvn', report)
  const started = Date.now()
  report.say(`fetching Kafka ${KAFKA_VERSION} jars with Maven (first start only)...`, { libs })

  // Fetched beside the final folder and renamed, so a fetch cut short leaves nothing half-done.
  const partial = `${libs}.${process.pid}.partial`
  await rm(partial, { recursive: true, force: true })
  await mkdir(root, { recursive: true })
  const downloads = new DownloadCount()
  let reportedAt = Date.now()
  await run(mvn.command, [...mvn.args, '-B', '-f', pom, 'dependency:copy-dependencies',
    `-DoutputDirectory=${partial}`, '-DincludeScope=runtime'], {
    onLine: (line) => {
      if (!downloads.add(line) || Date.now() - reportedAt < 5000) return
      reportedAt = Date.now()
      report.say(`fetching Kafka jars: ${downloads.describe()} so far...`)
    }
  })
  await rm(libs, { recursive: true, force: true })
  await rename(partial, libs)
  await writeFile(marker, pomHash)

  const jars = (await readdir(libs)).length
  const fetched = downloads.files > 0 ? ` (${downloads.describe()} from Maven Central)` : ''
  report.say(`fetched ${jars} Kafka jars in ${seconds(started)}${fetched}`, { libs })
  return libs
}

/**
 * Counts what Maven reports downloading in batch mode, where each finished file is one line:
 *
 *   [INFO] Downloaded from central: https://repo.maven.apache.org/.../kafka_2.13-4.1.1.jar (2.1 MB at 11 MB/s)
 */
export class DownloadCount {
  files = 0
  bytes = 0

  /** Counts `line` if it reports a finished download; says whether it did. */
  add (line: string): boolean {
    const match = /^(?:\[INFO\] )?Downloaded from \S+: \S+ \((\d+(?:\.\d+)?) (B|kB|MB|GB)/.exec(line)
    if (match === null) return false
    const unit = { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 }[match[2] as 'B' | 'kB' | 'MB' | 'GB']
    this.files++
    this.bytes += Number(match[1]) * unit
    return true
  }

  describe (): string {
    return `${this.files} files, ${(this.bytes / 1e6).toFixed(1)} MB`
  }
}

export interface KafkaLayout {
  dir: string
  dataDir: string
  configFile: string
  log4jFile: string
  logFile: string
  outputFile: string
}

export function kafkaLayout (home: string): KafkaLayout {
  const dir = join(home, 'kafka')
  return {
    dir,
    dataDir: join(dir, 'data'),
    configFile: join(dir, 'server.properties'),
    log4jFile: join(dir, 'log4j2.properties'),
    logFile: join(dir, 'logs', 'server.log'),
    outputFile: join(dir, 'logs', 'stdout.log')
  }
}

/**
 * One node that is both broker and controller. The quorum is static (`controller.quorum.voters`),
 * which lets the controller port change between starts; internal topics get one replica and
 * one partition because there is one broker and a consumer group should form in a blink.
 * A secure listener, when asked for, is one more client listener; the broker and controller
 * keep talking to each other in plaintext over loopback.
 */
function serverProperties (
  layout: KafkaLayout, ports: StackPorts, secure?: SecureListener
): string {
  const extra = secure === undefined ? undefined
    : { name: secure.endpoint.protocol, address: `${LOOPBACK}:${secure.port}` }
  const settings: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@${LOOPBACK}:${ports.kafkaController}`,
    listeners: [
      `PLAINTEXT://${LOOPBACK}:${ports.kafka}`,
      `CONTROLLER://${LOOPBACK}:${ports.kafkaController}`,
      ...(extra === undefined ? [] : [`${extra.name}://${extra.address}`])
    ].join(','),
    'advertised.listeners': [
      `PLAINTEXT://${LOOPBACK}:${ports.kafka}`,
      ...(extra === undefined ? [] : [`${extra.name}://${extra.address}`])
    ].join(','),
    'inter.broker.listener.name': 'PLAINTEXT',
    'controller.listener.names': 'CONTROLLER',
    'listener.security.protocol.map': ['PLAINTEXT:PLAINTEXT', 'CONTROLLER:PLAINTEXT',
      ...(extra === undefined ? [] : [`${extra.name}:${extra.name}`])].join(','),
    'log.dirs': layout.dataDir,
    'num.partitions': 1,
    'default.replication.factor': 1,
    'min.insync.replicas': 1,
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 1,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    'share.coordinator.state.topic.num.partitions': 1,
    'group.initial.rebalance.delay.ms': 0,
    'auto.create.topics.enable': false,
    ...secure?.properties
  }
  const lines = Object.entries(settings).map(([key, value]) => `${key}=${value}`)
  return `# Written by vitals on every start; edits are lost.\n${lines.join('\n')}\n`
}

/** INFO from the broker itself; the chatty request and client loggers only from WARN up. */
function log4jProperties (layout: KafkaLayout): string {
  // Kafka flushes its loggers itself; log4j's own shutdown hook only warns that it came too late.
  return `status = warn
name = vitals-kafka
shutdownHook = disable
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = ${layout.logFile}
appender.file.filePattern = ${layout.logFile}.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 10MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.state.name = state.change.logger
logger.state.level = WARN
logger.clients.name = org.apache.kafka.clients
logger.clients.level = WARN
logger.controller.name = org.apache.kafka.controller
logger.controller.level = WARN
`
}

export interface StartKafkaOptions {
  home: string
  ports: StackPorts
  libs: string
  java: Tool
  progress: Progress
  security?: SecureListener // an extra SASL and/or TLS listener, see security.ts
}

/** Writes the configs, formats the data folder on first use and starts the broker detached. */
export async function startKafka (options: StartKafkaOptions): Promise<number> {
  const layout = kafkaLayout(options.home)
  await mkdir(join(layout.dir, 'logs'), { recursive: true })
  await writeFile(layout.configFile, serverProperties(layout, options.ports, options.security))
  await writeFile(layout.log4jFile, log4jProperties(layout))

  const java = (jvmFlags: string[], ...args: string[]): string[] => [...options.java.args,
    ...jvmFlags, `-Dlog4j2.configurationFile=${layout.log4jFile}`, '-cp', join(options.libs, '*'),
    ...args]

  if (!await exists(join(layout.dataDir, 'meta.properties'))) {
    const started = Date.now()
    const { stdout } = await run(options.java.command,
      java([], 'kafka.tools.StorageTool', 'random-uuid'))
    const clusterId = stdout.trim().split('\n').pop() ?? ''
    await formatStorage(layout, clusterId, options.security?.scramCredential,
      (...args) => run(options.java.command, java([], 'kafka.tools.StorageTool', ...args)))
    options.progress.say(`formatted Kafka storage in ${seconds(started)}`,
      { clusterId, dataDir: layout.dataDir, scramUser: options.security?.endpoint.sasl?.username })
  }

  const heap = ['-Xms256m', '-Xmx512m', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20',
    '-Djava.awt.headless=true']
  return spawnDetached(options.java.command, java(heap, 'kafka.Kafka', layout.configFile),
    { cwd: layout.dir, outputFile: layout.outputFile })
}

/**
 * Formats the data folder. A SCRAM credential goes in through an argument file (StorageTool
 * reads `@file`), so it shows neither in the process list nor in the error of a failed run.
 */
async function formatStorage (layout: KafkaLayout, clusterId: string, scram: string | undefined,
  storageTool: (...args: string[]) => Promise<unknown>): Promise<void> {
  const args = ['format', '-t', clusterId, '-c', layout.configFile]
  if (scram === undefined) {
    await storageTool(...args)
    return
  }
  const argsFile = join(layout.dir, `format-args.${process.pid}`)
  await writeFile(argsFile, `--add-scram\n${scram}\n`, { mode: 0o600 })
  try {
    await storageTool(...args, `@${argsFile}`)
  } finally {
    await rm(argsFile, { force: true })
  }
}

/** Ready means the client port is open and the broker answers a metadata request. */
export async function kafkaAnswers (port: number, timeoutMs = 3000): Promise<boolean> {
  if (!await canConnect(port, LOOPBACK, timeoutMs)) return false
  const admin = new Admin({
    clientId: 'vitals-stack-probe',
    bootstrapBrokers: [`${LOOPBACK}:${port}`],
    timeout: timeoutMs,
    retries: 0
  })
  try {
    const metadata = await admin.metadata({ topics: [] })
    return metadata.brokers.size > 0
  } catch {
    return false
  } finally {
    await admin.close().catch(() => {})
  }
}

async function exists (path: string): Promise<boolean> {
  return access(path).then(() => true, () => false)
}
