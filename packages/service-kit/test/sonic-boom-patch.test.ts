// patches/sonic-boom+4.2.1.patch: pino's destination (sonic-boom 4) retried a failed synchronous
// flush forever for any error but EAGAIN/EBUSY — with stdout's reader gone (EPIPE), the flush
// pino runs on `process.exit` never returned and the process hung. Patched (as sonic-boom 5 does),
// the error is thrown. Checked on /dev/full (every write fails with ENOSPC), in a worker thread so
// that the unpatched endless loop fails this test instead of hanging the run.
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'

const require = createRequire(import.meta.url)
const sonicBoomPath = createRequire(require.resolve('pino')).resolve('sonic-boom')

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const fs = require('node:fs')
const SonicBoom = require(workerData.path)
const boom = new SonicBoom({ fd: fs.openSync('/dev/full', 'w'), sync: false })
boom.on('error', () => {}) // the first write's asynchronous ENOSPC
boom.write('in flight\\n')
boom.write('waiting\\n')
try {
  boom.flushSync()
  parentPort.postMessage('returned')
} catch (err) {
  parentPort.postMessage(err.code)
}
`

describe('sonic-boom flushSync (patched)', () => {
  it.skipIf(process.platform !== 'linux')(
    'throws a write error it cannot retry instead of retrying forever',
    async () => {
      const worker = new Worker(WORKER, { eval: true, workerData: { path: sonicBoomPath } })
      try {
        const answer = await new Promise<string>((resolve) => {
          worker.once('message', resolve)
          worker.once('error', (err) => resolve(`worker error: ${err.message}`))
          // the unpatched loop sleeps 100 ms between attempts and never returns
          setTimeout(() => resolve('still retrying after 3 s'), 3000).unref()
        })
        expect(answer).toBe('ENOSPC')
      } finally {
        await worker.terminate()
      }
    },
  )
})
