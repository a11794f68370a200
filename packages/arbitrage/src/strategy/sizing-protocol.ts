// The messages between SizingPool and its worker threads (structured clone: bigints and typed arrays travel as they are).
import type { PoolUpdate } from '../graph/pool-reserves.ts'
import type { SizedBatch, SizingBatch } from './sizing-batch.ts'

export type WorkerRequest = { type: 'pools'; updates: PoolUpdate[] } | { type: 'size'; id: number; batch: SizingBatch }

export type WorkerReply = { id: number; sized: SizedBatch } | { id: number; error: string }
