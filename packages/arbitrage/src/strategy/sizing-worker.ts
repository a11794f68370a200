// A search worker thread (started by sizing-pool.ts): keeps a copy of every pool's exact reserves
// and sizes the batches it is sent. Messages arrive in order, so a batch always sees the pool
// updates sent before it.
import { parentPort } from 'node:worker_threads'
import { CairnError } from '@cairn/utils'
import { ArbErrorCode } from '../errors.ts'
import { PoolReserves } from '../graph/pool-reserves.ts'
import { sizeBatch } from './sizing-batch.ts'
import type { WorkerReply, WorkerRequest } from './sizing-protocol.ts'

const port = parentPort
if (!port) {
  throw new CairnError(ArbErrorCode.SEARCH_WORKER_FAILED, 'sizing-worker.ts runs as a worker thread', {
    fault: 'internal',
    hint: 'SizingPool starts it',
  })
}
const reserves = new PoolReserves()
port.on('message', (m: WorkerRequest) => {
  if (m.type === 'pools') {
    reserves.apply(m.updates)
    return
  }
  let reply: WorkerReply
  try {
    reply = { id: m.id, sized: sizeBatch(reserves, m.batch) }
  } catch (err) {
    reply = { id: m.id, error: err instanceof Error ? err.message : String(err) }
  }
  port.postMessage(reply)
})
