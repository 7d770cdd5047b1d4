import { randomBytes } from 'node:crypto'
import { access, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ErrorCodes, MissingToolError, VitalsError } from '../errors.ts'
import { LOOPBACK } from './ports.ts'
import { run } from './process.ts'

/**
 * The local stack's TLS material: a CA of its own and one server certificate it signed, made
 * once with `openssl` and kept, so clients holding the CA file keep trusting the servers across
 * restarts. Kafka and ClickHouse both serve that certificate (it names only 127.0.0.1 and
 * localhost), so one CA file verifies either. The key is unencrypted PEM in a folder only its
 * owner can read: Kafka and ClickHouse both read PEM directly, so no keystore password exists
 * that could leak. The file names say "broker" because Kafka used them first.
 */
export interface StackCertificates {
  caFile: string // the CA certificate (PEM) clients verify the servers with
  keystoreFile: string // the server's private key, then its certificate chain (PEM), mode 0600
}

const CA_DAYS = 3650
const BROKER_DAYS = 825 // the longest lifetime clients accept for a server certificate

export function certificatesIn (dir: string): StackCertificates {
  return { caFile: join(dir, 'ca.pem'), keystoreFile: join(dir, 'broker-keystore.pem') }
}

/**
 * Returns the certificates in `dir`, making them first when missing. The server certificate
 * names 127.0.0.1 as an IP address, so clients verify the host name instead of skipping the
 * check. The CA's key is deleted once it has signed: nothing else can then be made that
 * clients of this CA would trust.
 */
export async function ensureCertificates (dir: string): Promise<StackCertificates> {
  const files = certificatesIn(dir)
  if (await exists(files.caFile) && await exists(files.keystoreFile)) return files

  const work = `${dir}.${process.pid}.partial`
  await rm(work, { recursive: true, force: true })
  await mkdir(work, { recursive: true, mode: 0o700 })
  try {
    const path = (name: string): string => join(work, name)
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']

    await openssl(['req', '-x509', ...ec, '-keyout', path('ca.key'), '-out', path('ca.pem'),
      '-days', String(CA_DAYS), '-subj', '/CN=Vitals local stack CA',
      '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign'])
    await openssl(['req', ...ec, '-keyout', path('broker.key'), '-out', path('broker.csr'),
      '-subj', `/CN=${LOOPBACK}`])
    await writeFile(path('broker.ext'), [
      `subjectAltName=IP:${LOOPBACK},DNS:localhost`,
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth'
    ].join('\n') + '\n')
    await openssl(['x509', '-req', '-in', path('broker.csr'), '-CA', path('ca.pem'),
      '-CAkey', path('ca.key'), '-set_serial', `0x${randomBytes(16).toString('hex')}`,
      '-days', String(BROKER_DAYS), '-extfile', path('broker.ext'), '-out', path('broker.pem')])

    // A PEM keystore as Kafka reads it: the key first, then the chain from the server up to
    // the CA. ClickHouse reads the same file for its key and for its certificate chain.
    const keystore = await Promise.all(['broker.key', 'broker.pem', 'ca.pem']
      .map((name) => readFile(path(name), 'utf8')))
    await writeFile(path('broker-keystore.pem'), keystore.join(''), { mode: 0o600 })
    await Promise.all(['ca.key', 'broker.key', 'broker.csr', 'broker.ext']
      .map((name) => rm(path(name))))

    await rm(dir, { recursive: true, force: true })
    await rename(work, dir)
  } catch (error) {
    await rm(work, { recursive: true, force: true })
    throw error
  }
  return files
}

async function openssl (args: string[]): Promise<void> {
  try {
    await run('openssl', args)
  } catch (error) {
    if (((error as VitalsError).cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
      throw new MissingToolError('openssl', 'openssl')
    }
    throw new VitalsError(ErrorCodes.STACK_PROCESS,
      `could not make the stack's TLS certificates: ${(error as Error).message}`,
      { cause: error })
  }
}

async function exists (path: string): Promise<boolean> {
  return access(path).then(() => true, () => false)
}
