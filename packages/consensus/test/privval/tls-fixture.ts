/** Certificates for the remote signer's tests, made with openssl once per test file (P-256). */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface Pem {
  cert: string
  key: string
}

function ssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] })
}

/**
 * A fixed self-signed certificate and key, for unit tests that build a signer but never connect
 * (a unit test may not run openssl). Test-only: it guards nothing.
 */
export const UNIT_PEM: Pem = {
  cert: `-----BEGIN CERTIFICATE-----
MIIBiTCCAS+gAwIBAgIUEdoRpuhs+9R2yjLTur/x5tcAUnswCgYIKoZIzj0EAwIw
GTEXMBUGA1UEAwwOdW5pdC10ZXN0LW9ubHkwIBcNMjYxMTI3MjM0NTEzWhgPMjEy
NjExMDMyMzQ1MTNaMBkxFzAVBgNVBAMMDnVuaXQtdGVzdC1vbmx5MFkwEwYHKoZI
zj0CAQYIKoZIzj0DAQcDQgAE0y1UN6i3WDk8hhC0/OjLEuc/lmM9jyhJEIoPl4BB
hZpFswnLadbOZv/g8KP90Y1mfem4Hlnum6VsFLpUqEuqBKNTMFEwHQYDVR0OBBYE
FPpejYIanXXaUA3K/jg+YtqKB+V7MB8GA1UdIwQYMBaAFPpejYIanXXaUA3K/jg+
YtqKB+V7MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIgIS7+kMwi
4LAFjN7Q8OP1o6zRU+GjT/N+R2eZORabnp4CIQD6kAynBT7FVTq5ytEroStjQqT+
TYrBy4ddYR35DNUdiQ==
-----END CERTIFICATE-----
`,
  key: `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgUfuBZiGjvq5uLmA8
3p4xi6dFiyWkrgP4sYfYR6X5kr6hRANCAATTLVQ3qLdYOTyGELT86MsS5z+WYz2P
KEkQig+XgEGFmkWzCctp1s5m/+Dwo/3RjWZ96bgeWe6bpWwUulSoS6oE
-----END PRIVATE KEY-----
`,
}

/**
 * A CA, a server certificate for 127.0.0.1 and client certificates for `clients` — plus `rogue`,
 * a client certificate from the same CA that a test leaves unpinned.
 */
export function makePki(clients: string[]): { ca: string; server: Pem; clients: Record<string, Pem> } {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-pki-'))
  const p = (f: string) => join(dir, f)
  try {
    const key = (f: string) => ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', p(f))
    key('ca-key.pem')
    ssl('req', '-x509', '-new', '-key', p('ca-key.pem'), '-subj', '/CN=test-ca', '-days', '2', '-out', p('ca.pem'))
    const issue = (name: string, ext: string): Pem => {
      key(`${name}-key.pem`)
      ssl('req', '-new', '-key', p(`${name}-key.pem`), '-subj', `/CN=${name}`, '-out', p(`${name}.csr`))
      writeFileSync(p(`${name}.ext`), ext)
      ssl(
        'x509',
        '-req',
        '-in',
        p(`${name}.csr`),
        '-CA',
        p('ca.pem'),
        '-CAkey',
        p('ca-key.pem'),
        '-CAcreateserial',
        '-days',
        '2',
        '-extfile',
        p(`${name}.ext`),
        '-out',
        p(`${name}.pem`),
      )
      return { cert: readFileSync(p(`${name}.pem`), 'utf8'), key: readFileSync(p(`${name}-key.pem`), 'utf8') }
    }
    const server = issue('signer', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n')
    const out: Record<string, Pem> = {}
    for (const c of [...clients, 'rogue']) out[c] = issue(c, 'extendedKeyUsage=clientAuth\n')
    return { ca: readFileSync(p('ca.pem'), 'utf8'), server, clients: out }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
