/**
 * The client's connection to a `cairn signer serve` process (`protocol.ts`): the signer's URL, a
 * mutual-TLS socket (TLS 1.3), one request and its answer on a socket nothing else reads, and the
 * handshake (`keys`). Shared by the consensus client (@cairn/consensus `privval/remote-signer.ts`) and the transaction
 * client (`tx-client.ts`).
 */
import { connect, type TLSSocket } from 'node:tls'
import { CairnError } from '@cairn/utils'
import { KeysErrorCode } from '../errors.ts'
import { encodeFrame, FrameReader, type KeysResult, parseResponse, type SignerResponse } from './protocol.ts'

/** The client certificate and the CA of the signer's, in PEM. */
export interface SignerTls {
  ca: string
  cert: string
  key: string
}

/** `tls://host:port` → host and port. */
export function parseSignerUrl(url: string): { host: string; port: number } {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    u = new URL('invalid://')
  }
  const port = Number(u.port)
  if (u.protocol !== 'tls:' || u.hostname === '' || !Number.isInteger(port) || port <= 0) {
    throw new CairnError(KeysErrorCode.SIGNER_CONFIG, `bad remote signer url ${url}`, {
      fault: 'caller',
      hint: 'write it as tls://HOST:PORT (e.g. tls://10.0.0.5:9797)',
    })
  }
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port }
}

/** A mutual-TLS connection to the signer (TLS 1.3), within `timeoutMs`. */
export function openSocket(host: string, port: number, tls: SignerTls, timeoutMs: number): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, ca: tls.ca, cert: tls.cert, key: tls.key, minVersion: 'TLSv1.3' })
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no TLS connection within ${timeoutMs} ms`))
    }, timeoutMs)
    socket.once('secureConnect', () => {
      clearTimeout(timer)
      socket.setNoDelay(true)
      socket.setKeepAlive(true, 5_000)
      resolve(socket)
    })
    socket.once('error', (err) => {
      clearTimeout(timer)
      socket.destroy()
      reject(err)
    })
  })
}

/**
 * Sends one request on a socket nothing else reads and resolves to its answer. A refused client
 * certificate shows here (TLS 1.3 closes after the handshake).
 */
export function askOnce(socket: TLSSocket, req: Record<string, unknown>, timeoutMs: number): Promise<SignerResponse> {
  return new Promise((resolve, reject) => {
    const reader = new FrameReader()
    const done = (err: Error | null, r?: SignerResponse) => {
      clearTimeout(timer)
      socket.off('data', onData)
      socket.off('close', onClose)
      socket.off('error', onError)
      if (err) reject(err)
      else resolve(r as SignerResponse)
    }
    const timer = setTimeout(() => done(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
    const onData = (chunk: Buffer) => {
      try {
        for (const m of reader.push(chunk)) return done(null, parseResponse(m))
      } catch (err) {
        done(err as Error)
      }
    }
    const onClose = () => done(new Error('the signer closed the connection (is this certificate pinned?)'))
    const onError = (err: Error) => done(err)
    socket.on('data', onData)
    socket.once('close', onClose)
    socket.once('error', onError)
    socket.write(encodeFrame(req))
  })
}

/** The handshake: the signer's version, chain and keys. */
export async function askKeys(socket: TLSSocket, timeoutMs: number): Promise<KeysResult> {
  const res = await askOnce(socket, { id: 0, method: 'keys' }, timeoutMs)
  const broken = (message: string) => new CairnError(KeysErrorCode.SIGNER_PROTOCOL, message, { fault: 'peer' })
  if ('error' in res) throw broken(`${res.error.code}: ${res.error.message}`)
  const r = res.result as Partial<KeysResult>
  if (typeof r.version !== 'number' || typeof r.chainId !== 'string' || !Array.isArray(r.keys)) {
    throw broken('a keys answer without version, chainId or keys')
  }
  return r as KeysResult
}
