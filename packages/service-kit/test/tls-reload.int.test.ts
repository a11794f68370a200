// TLS reload: a running HTTPS server given new PEM files serves the new certificate to new
// connections; an unusable file is refused and the old certificate stays. Fixtures: two
// self-signed P-256 certificates for localhost (test/fixtures/tls-{a,b}.*, valid for 100 years).
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from 'node:tls'
import { isCairnError } from '@cairn/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readTls, reloadTls, ServiceErrorCode } from '../src/index.ts'

const fixture = (name: string) => join(import.meta.dirname, 'fixtures', name)
let dir: string
let server: Server
let files: { cert: string; key: string }

/** The SHA-256 fingerprint of the certificate a new connection is served. */
function servedFingerprint(): Promise<string> {
  const { port } = server.address() as AddressInfo
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().fingerprint256)
      socket.end()
    })
    socket.on('error', reject)
  })
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kit-tls-'))
  files = { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') }
  copyFileSync(fixture('tls-a.crt'), files.cert)
  copyFileSync(fixture('tls-a.key'), files.key)
  server = createServer(readTls(files), (_req, res) => res.end('ok'))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
})

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
  rmSync(dir, { recursive: true, force: true })
})

describe('reloadTls', () => {
  it('serves the renewed certificate to new connections; a broken file keeps the old one', async () => {
    const first = await servedFingerprint()
    copyFileSync(fixture('tls-b.crt'), files.cert)
    copyFileSync(fixture('tls-b.key'), files.key)
    reloadTls(server, files)
    const second = await servedFingerprint()
    expect(second).not.toBe(first)

    writeFileSync(files.cert, 'not a certificate')
    let thrown: unknown
    try {
      reloadTls(server, files)
    } catch (err) {
      thrown = err
    }
    expect(isCairnError(thrown, ServiceErrorCode.TLS_UNREADABLE)).toBe(true)
    expect((thrown as Error).message).toContain('http.tlsCert')
    expect(await servedFingerprint()).toBe(second)

    // A certificate with another certificate's key is refused too.
    copyFileSync(fixture('tls-a.crt'), files.cert)
    expect(() => reloadTls(server, files)).toThrow(/cannot use http.tlsCert with http.tlsKey/)
    expect(await servedFingerprint()).toBe(second)
  })
})
