import { z } from 'zod'

/** The most changes one batch may carry. */
export const MAX_BATCH = 10_000

const USER = z.string().min(1).max(256)
const AMOUNTS = z.record(z.string(), z.string().max(45)).refine((r) => Object.keys(r).length > 0, 'names no currency')
const Change = z.union([
  z.object({ userId: USER, deltas: AMOUNTS }).strict(),
  z.object({ userId: USER, balances: z.record(z.string(), z.string().max(45)) }).strict(),
  z.object({ userId: USER, remove: z.literal(true) }).strict(),
])

/** A batch of ledger changes, as `POST /v1/ledger/changes` and the NATS consumer take it. */
export const Batch = z.object({ changes: z.array(Change).min(1).max(MAX_BATCH) }).strict()
