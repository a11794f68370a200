import { readFileSync } from 'node:fs'
import { CairnError } from '@cairn/utils'
import { ServiceErrorCode } from '../errors.ts'

/** PEM files of a port's certificate chain and key (e.g. `http.tlsCert`, `http.tlsKey`). */
export interface TlsFiles {
  cert: string
  key: string
}

/** The names the user gave the two files (config keys or flags), for error messages. */
export interface TlsFileNames {
  cert: string
  key: string
}

const DEFAULT_NAMES: TlsFileNames = { cert: 'http.tlsCert', key: 'http.tlsKey' }

/** Reads both PEM files; a missing or unreadable one throws SERVICE_TLS_UNREADABLE naming the key and path. */
export function readTls(files: TlsFiles, names: TlsFileNames = DEFAULT_NAMES): { cert: Buffer; key: Buffer } {
  return { cert: readPem(names.cert, files.cert), key: readPem(names.key, files.key) }
}

/**
 * Re-reads the PEM files and swaps them into a running TLS server (`setSecureContext`): new
 * connections get the new certificate, open ones keep theirs. A renewed certificate (certbot, an
 * operator's copy) thus takes effect on reload without a restart. Throws SERVICE_TLS_UNREADABLE and
 * leaves the old certificate in place when a file is unusable, or when the key does not match.
 */
export function reloadTls(
  server: { setSecureContext(opts: { cert: Buffer; key: Buffer }): void },
  files: TlsFiles,
  names: TlsFileNames = DEFAULT_NAMES,
): void {
  const pem = readTls(files, names)
  try {
    server.setSecureContext(pem)
  } catch (err) {
    throw new CairnError(
      ServiceErrorCode.TLS_UNREADABLE,
      `cannot use ${names.cert} with ${names.key}: ${(err as Error).message}`,
      {
        fault: 'caller',
        cause: err,
        hint: 'the key must be the private key of the certificate',
      },
    )
  }
}

function readPem(key: string, path: string): Buffer {
  let pem: Buffer
  try {
    pem = readFileSync(path)
  } catch (err) {
    throw new CairnError(ServiceErrorCode.TLS_UNREADABLE, `cannot read ${key} ${path}: ${(err as Error).message}`, {
      fault: 'caller',
      hint: `point ${key} at a readable PEM file`,
    })
  }
  if (!pem.toString('latin1').includes('-----BEGIN ')) {
    throw new CairnError(ServiceErrorCode.TLS_UNREADABLE, `${key} ${path} is not a PEM file`, {
      fault: 'caller',
      hint: 'give PEM files (-----BEGIN CERTIFICATE----- / -----BEGIN PRIVATE KEY-----)',
    })
  }
  return pem
}
