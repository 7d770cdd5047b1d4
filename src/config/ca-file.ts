import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { ConfigError } from '../errors.ts'

/**
 * Reads the CA certificate a setting names, so that a wrong path or a file that is not a PEM
 * certificate is one clear line naming the setting instead of a failed handshake later.
 */
export function readCaFile (key: string, file: string): Buffer {
  let ca: Buffer
  try {
    ca = readFileSync(file)
  } catch (error) {
    throw new ConfigError(key, `cannot read ${file}: ${(error as Error).message}`)
  }
  if (!isCertificate(ca)) {
    throw new ConfigError(key, `${file} holds no PEM certificate`)
  }
  return ca
}

function isCertificate (pem: Buffer): boolean {
  try {
    return new X509Certificate(pem).subject !== undefined
  } catch {
    return false
  }
}
