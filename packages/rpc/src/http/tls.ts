import { readFileSync } from 'node:fs'
import { CairnError } from '@cairn/utils'

/** PEM files of the RPC port's certificate chain and key (`http.tlsCert`, `http.tlsKey`). */
export interface TlsFiles {
  cert: string
  key: string
}

/** Reads both PEM files; a missing or unreadable one stops the start, naming the key and path. */
export function readTls(files: TlsFiles): { cert: Buffer; key: Buffer } {
  return { cert: readPem('http.tlsCert', files.cert), key: readPem('http.tlsKey', files.key) }
}

function readPem(key: string, path: string): Buffer {
  let pem: Buffer
  try {
    pem = readFileSync(path)
  } catch (err) {
    throw new CairnError('RPC_TLS_UNREADABLE', `cannot read ${key} ${path}: ${(err as Error).message}`, {
      fault: 'caller',
      hint: `point ${key} at a readable PEM file`,
    })
  }
  if (!pem.toString('latin1').includes('-----BEGIN ')) {
    throw new CairnError('RPC_TLS_UNREADABLE', `${key} ${path} is not a PEM file`, {
      fault: 'caller',
      hint: 'give PEM files (-----BEGIN CERTIFICATE----- / -----BEGIN PRIVATE KEY-----)',
    })
  }
  return pem
}
