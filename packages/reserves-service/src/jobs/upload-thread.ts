// An upload thread's entry: the CPU-heavy part of a streamed snapshot upload happens here, off the
// serving thread — splitting and checking rows (RowReader), the totals, and sealing the input in
// parts with the at-rest key. The serving thread only forwards the body's chunks and stores the
// sealed parts it gets back, so probes and other requests keep being answered during a large upload.
import { PassThrough } from 'node:stream'
import { parentPort } from 'node:worker_threads'
import { checkCurrencies, checkTotals, readSnapshot } from '@cairn/reserves'
import { sealInput } from './build-input.ts'
import type { UploadInput, UploadOutput, UploadStart } from './upload-protocol.ts'

const port = parentPort!
const body = new PassThrough()
let result: Promise<UploadOutput> | null = null

async function run(start: UploadStart): Promise<UploadOutput> {
  const snap = await readSnapshot(body, start.format, start.currencies)
  checkCurrencies(snap.currencies)
  checkTotals(snap.entries, snap.currencies.length, start.minDepth)
  const parts = sealInput({ id: start.keyId, key: start.key }, start.snapshotId, snap.entries)
  return { type: 'done', currencies: snap.currencies, users: snap.entries.length, parts }
}

function failure(err: unknown): UploadOutput {
  const e = err as { message?: string; code?: string; fault?: string; hint?: string; meta?: unknown }
  return { type: 'error', message: e.message ?? String(err), code: e.code, fault: e.fault, hint: e.hint, meta: e.meta }
}

port.on('message', (m: UploadInput) => {
  if (m.type === 'start') {
    result = run(m).catch(failure)
    void result.then((out) => {
      // Whatever the body still holds is not needed once the rows are refused.
      body.resume()
      port.postMessage(out, out.type === 'done' ? out.parts.map((p) => p.buffer as ArrayBuffer) : [])
    })
  } else if (m.type === 'chunk') {
    // The ack goes once the reader has taken the chunk: the serving thread sends the next then.
    if (body.write(m.bytes)) port.postMessage({ type: 'ack' } satisfies UploadOutput)
    else body.once('drain', () => port.postMessage({ type: 'ack' } satisfies UploadOutput))
  } else body.end()
})
