// The snapshots feature's request schemas (zod), checked at the edge of each route.
import { z } from 'zod'

export const ID = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/)
export const HASH = z.enum(['sha256', 'keccak256'])
export const SnapshotQuery = z.object({
  id: ID.optional(),
  hash: HASH.optional(),
  minDepth: z.coerce.number().int().min(0).max(28).optional(),
  /** For NDJSON: `BTC:8,ETH:18`; for CSV: decimals of the header's currencies. */
  currencies: z.string().max(2000).optional(),
})
export const JsonSnapshot = z.object({
  id: ID.optional(),
  hash: HASH.optional(),
  minDepth: z.number().int().min(0).max(28).optional(),
  currencies: z
    .array(z.object({ symbol: z.string(), decimals: z.number().int() }))
    .min(1)
    .max(64),
  entries: z.array(z.object({ userId: z.string(), balances: z.record(z.string(), z.union([z.string(), z.number()])) })),
})
export const Page = z.object({
  cursor: z.string().regex(/^\d+$/).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
})
export const LeavesPage = z.object({
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
})
export const Batch = z.object({ userIds: z.array(z.string().min(1)).min(1).max(1000) })
const ADDRESS = z.string().regex(/^0x[0-9a-fA-F]{40}$/)
export const Anchor = z.object({
  chainId: z.number().int().positive(),
  txHash: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
  blockNumber: z.number().int().nonnegative(),
  /** The ReservesRegistry contract (absent for a calldata anchor). */
  registry: ADDRESS.optional(),
  publisher: ADDRESS.optional(),
})
export const BuildsQuery = z.object({
  all: z.enum(['true', 'false']).default('false'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
})
