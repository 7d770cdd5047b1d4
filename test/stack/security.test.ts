import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { ErrorCodes } from '../../src/errors.ts'
import { ensureCertificates } from '../../src/stack/certs.ts'
import {
  hasSecurity, prepareSecurity, resumeSecurity, securityDir
} from '../../src/stack/security.ts'
import type { StackPorts, StackState } from '../../src/stack/state.ts'

const ports = (): StackPorts =>
  ({ kafka: 40001, kafkaController: 40002, clickhouseHttp: 40003, clickhouseTcp: 40004 })

describe('stack certificates', () => {
  let dir: string

  before(async () => { dir = await mkdtemp(join(tmpdir(), 'vitals-certs-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('should make a CA and a broker certificate for 127.0.0.1 that the CA signed', async () => {
    const files = await ensureCertificates(join(dir, 'tls'))
    const ca = new X509Certificate(await readFile(files.caFile))
    const keystore = await readFile(files.keystoreFile, 'utf8')
    const broker = new X509Certificate(keystore)

    assert.equal(ca.ca, true)
    assert.equal(broker.ca, false)
    assert.match(broker.subjectAltName ?? '', /IP Address:127\.0\.0\.1/)
    assert.equal(broker.checkIP('127.0.0.1'), '127.0.0.1')
    assert.ok(broker.verify(ca.publicKey))
    assert.match(keystore, /^-----BEGIN PRIVATE KEY-----/)
    assert.equal((await stat(files.keystoreFile)).mode & 0o777, 0o600)
  })

  it('should keep no CA key, so nothing else can be signed with it', async () => {
    const tls = join(dir, 'tls')
    const keys = []
    for (const name of await readdir(tls)) {
      if ((await readFile(join(tls, name), 'utf8')).includes('PRIVATE KEY')) keys.push(name)
    }
    assert.deepEqual(keys, ['broker-keystore.pem'])
  })

  it('should reuse the certificates it made, so clients keep trusting the broker', async () => {
    const first = await readFile(join(dir, 'tls', 'ca.pem'), 'utf8')
    await ensureCertificates(join(dir, 'tls'))
    assert.equal(await readFile(join(dir, 'tls', 'ca.pem'), 'utf8'), first)
  })
})

describe('stack security options', () => {
  let home: string

  before(async () => { home = await mkdtemp(join(tmpdir(), 'vitals-security-')) })
  after(async () => { await rm(home, { recursive: true, force: true }) })

  it('no security should add no listener and leave the ports alone', async () => {
    const chosen = ports()
    assert.equal(await prepareSecurity(home, undefined, chosen), undefined)
    assert.equal(await prepareSecurity(home, {}, chosen), undefined)
    assert.deepEqual(chosen, ports())
  })

  it('SASL and TLS together should be one SASL_SSL listener with a SCRAM-SHA-512 user',
    async () => {
      const chosen = ports()
      const listener = await prepareSecurity(home,
        { sasl: { password: 'a password, with "quotes" and ]' }, tls: true }, chosen)
      assert.ok(listener !== undefined)
      assert.equal(chosen.kafkaSecure, listener.port)
      assert.deepEqual(listener.endpoint, {
        bootstrap: `127.0.0.1:${listener.port}`,
        protocol: 'SASL_SSL',
        caFile: join(securityDir(home), 'tls', 'ca.pem'),
        sasl: { mechanism: 'SCRAM-SHA-512', username: 'vitals',
          password: 'a password, with "quotes" and ]' }
      })
      assert.equal(listener.properties['listener.name.sasl_ssl.ssl.keystore.type'], 'PEM')
      assert.equal(listener.properties['listener.name.sasl_ssl.sasl.enabled.mechanisms'],
        'SCRAM-SHA-512')
      assert.match(listener.scramCredential ?? '',
        /^SCRAM-SHA-512=\[name=vitals,iterations=8192,salt="[^"]+",saltedpassword="[^"]+"\]$/)
      assert.ok(!listener.scramCredential?.includes('a password'),
        'only the salted password should reach the broker tools')
      const record = join(securityDir(home), 'scram-user.json')
      assert.equal((await stat(record)).mode & 0o777, 0o600)
    })

  it('a later start should keep the recorded user and refuse another password', async () => {
    const again = await prepareSecurity(home, { sasl: {}, tls: true }, ports())
    assert.equal(again?.endpoint.sasl?.password, 'a password, with "quotes" and ]')
    await assert.rejects(prepareSecurity(home, { sasl: { password: 'other' } }, ports()),
      { code: ErrorCodes.STACK_PROCESS, message: /holds SCRAM user vitals/ })
  })

  it('resuming a recorded listener should give the same endpoint', async () => {
    const chosen = ports()
    const first = await prepareSecurity(home, { sasl: {}, tls: true }, chosen)
    const resumed = await resumeSecurity({ home, ports: chosen, kafkaSecure: first?.endpoint } as
      StackState)
    assert.deepEqual(resumed?.endpoint, first?.endpoint)
    assert.equal(await resumeSecurity({ home, ports: ports() } as StackState), undefined)
  })

  it('storage formatted without a SCRAM user should be refused with what to do', async () => {
    const other = await mkdtemp(join(tmpdir(), 'vitals-security-'))
    try {
      await mkdir(join(other, 'kafka', 'data'), { recursive: true })
      await writeFile(join(other, 'kafka', 'data', 'meta.properties'), 'version=1\n')
      await assert.rejects(prepareSecurity(other, { sasl: {} }, ports()),
        { code: ErrorCodes.STACK_PROCESS, message: /formatted without a SCRAM user/ })
      const tlsOnly = await prepareSecurity(other, { tls: true }, ports())
      assert.equal(tlsOnly?.endpoint.protocol, 'SSL')
      assert.equal(tlsOnly?.scramCredential, undefined)
    } finally {
      await rm(other, { recursive: true, force: true })
    }
  })

  it('a running stack should be reused only when it has the listener asked for', () => {
    const state = {
      kafkaSecure: {
        bootstrap: '127.0.0.1:1', protocol: 'SASL_SSL', caFile: '/ca.pem',
        sasl: { mechanism: 'SCRAM-SHA-512', username: 'vitals', password: 'p' }
      }
    } as StackState
    const plain = {} as StackState
    assert.equal(hasSecurity(plain, undefined), true)
    assert.equal(hasSecurity(plain, { sasl: {}, tls: true }), false)
    assert.equal(hasSecurity(state, undefined), true)
    assert.equal(hasSecurity(state, { sasl: {}, tls: true }), true)
    assert.equal(hasSecurity(state, { sasl: { password: 'p' }, tls: true }), true)
    assert.equal(hasSecurity(state, { sasl: { password: 'other' }, tls: true }), false)
    assert.equal(hasSecurity(state, { tls: true }), false)
  })
})
