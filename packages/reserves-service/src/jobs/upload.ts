// A streamed snapshot upload, read and sealed on an upload thread (upload-thread.ts). The serving
// thread forwards the request body a chunk at a time (the next once the thread has taken the last:
// memory stays bounded by the thread's reader), and gets back the currencies, the user count and
// the sealed input parts, or the refusal the reader raised (the same CairnError as in-thread).
import type { Readable } from 'node:stream'
import type { InputFormat } from '@cairn/reserves'
import type { Currency } from '@cairn/reserves/verifier'
import { CairnError, type CairnErrorCode, type ErrorFault, startWorker } from '@cairn/utils'
import type { AtRestKey } from '../kernel/at-rest.ts'
import type { UploadInput, UploadOutput } from './upload-protocol.ts'

export interface UploadOptions {
  format: InputFormat
  currencies: Currency[] | null
  snapshotId: string
  minDepth: number
  key: AtRestKey
}

export interface ReadUpload {
  currencies: Currency[]
  users: number
  /** The input, sealed in parts (build-input.ts): what `storeInput` stores. */
  parts: Uint8Array[]
}

/** Reads, checks and seals `body` on an upload thread; rejects with the reader's CairnError. */
export function readUpload(body: Readable, opts: UploadOptions): Promise<ReadUpload> {
  const thread = startWorker(
    new URL(`./upload-thread${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url),
  )
  const send = (m: UploadInput, transfer: ArrayBuffer[] = []) => thread.postMessage(m, transfer)
  return new Promise<ReadUpload>((resolve, reject) => {
    let settled = false
    const settle = (f: () => void) => {
      if (settled) return
      settled = true
      body.off('data', onData)
      body.off('end', onEnd)
      body.off('error', onBodyError)
      void thread.terminate()
      f()
    }
    const onData = (chunk: Buffer | string) => {
      body.pause()
      // A copy the thread owns (a request chunk may share its buffer with others).
      const bytes = typeof chunk === 'string' ? new Uint8Array(Buffer.from(chunk, 'utf8')) : new Uint8Array(chunk)
      send({ type: 'chunk', bytes }, [bytes.buffer as ArrayBuffer])
    }
    const onEnd = () => send({ type: 'end' })
    const onBodyError = (err: Error) => settle(() => reject(err))
    thread.on('message', (m: UploadOutput) => {
      if (m.type === 'ack') body.resume()
      else if (m.type === 'done') settle(() => resolve({ currencies: m.currencies, users: m.users, parts: m.parts }))
      else
        settle(() =>
          reject(
            new CairnError((m.code ?? 'RESERVES_INPUT_INVALID') as CairnErrorCode, m.message, {
              fault: (m.fault as ErrorFault | undefined) ?? 'caller',
              ...(m.hint === undefined ? {} : { hint: m.hint }),
              ...(m.meta === undefined ? {} : { meta: m.meta as never }),
            }),
          ),
        )
    })
    thread.on('error', (err) => settle(() => reject(err)))
    thread.on('exit', (code) => settle(() => reject(new Error(`the upload thread exited (${code})`))))
    send({
      type: 'start',
      format: opts.format,
      currencies: opts.currencies,
      snapshotId: opts.snapshotId,
      minDepth: opts.minDepth,
      keyId: opts.key.id,
      key: opts.key.key,
    })
    body.on('data', onData)
    body.on('end', onEnd)
    body.on('error', onBodyError)
  })
}
