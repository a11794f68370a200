// Input of the reconciliation routes, checked at the edge (every refusal a 400 saying what to fix).
import { z } from 'zod'
import { MAX_DECIMALS, parseDecimal } from './ratio.ts'

const SYMBOL = z.string().regex(/^[A-Za-z0-9._-]{1,16}$/, { error: 'must be a currency symbol of the snapshots' })
const ADDRESS = z.string().regex(/^0x[0-9a-fA-F]{40}$/, { error: 'must be a 0x address (20 bytes hex)' })
const Label = z.string().max(200, { error: 'must be at most 200 characters' })
const Enabled = z.boolean({ error: 'must be true or false' })

const RpcUrl = z.string().superRefine((v, ctx) => {
  const say = (message: string) => ctx.addIssue({ code: 'custom', message })
  if (v.length > 2048) return say('must be at most 2048 characters')
  let u: URL
  try {
    u = new URL(v)
  } catch {
    return say('is not an absolute URL (like https://rpc.example.com or http://127.0.0.1:8545)')
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return say(`must be http:// or https://, not ${u.protocol}//`)
})

/** A decimal in whole units ("1250", "0.5"). */
const Amount = z
  .string({ error: 'must be a decimal string in whole units, like "1250.5"' })
  .refine((v) => parseDecimal(v) !== null, {
    error: `must be a non-negative decimal in whole units, like "1250.5" (at most ${MAX_DECIMALS} decimals)`,
  })

const AsOf = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time, like 2026-11-27T00:00:00Z' })

export const CreateOnchainSource = z.strictObject({
  kind: z.literal('onchain'),
  currency: SYMBOL,
  label: Label.optional(),
  enabled: Enabled.optional(),
  chainId: z.number({ error: 'must be the chain id (a number)' }).int().positive(),
  rpcUrl: RpcUrl,
  address: ADDRESS,
  /** An ERC-20 contract; absent: the chain's native balance. */
  token: ADDRESS.optional(),
  /** The balance's decimals (18 for a native balance when absent; required with `token`). */
  decimals: z.number().int().min(0).max(MAX_DECIMALS).optional(),
})

export const CreateOffchainSource = z.strictObject({
  kind: z.literal('offchain'),
  currency: SYMBOL,
  label: Label.optional(),
  enabled: Enabled.optional(),
  amount: Amount,
  attestedBy: z.string().min(1).max(200),
  asOf: AsOf,
})

export const CreateSource = z.discriminatedUnion('kind', [CreateOnchainSource, CreateOffchainSource], {
  error: 'kind must be "onchain" or "offchain"',
})

export const UpdateSource = z
  .strictObject({
    label: Label.optional(),
    enabled: Enabled.optional(),
    rpcUrl: RpcUrl.optional(),
    amount: Amount.optional(),
    attestedBy: z.string().min(1).max(200).optional(),
    asOf: AsOf.optional(),
  })
  .refine((o) => Object.keys(o).length > 0, { error: 'give at least one field to change' })

export const RunRequest = z.strictObject({
  /** Default: the newest built snapshot. */
  snapshotId: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/)
    .optional(),
})

export const RunQuery = z.object({
  snapshotId: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/)
    .optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
})

export type CreateSourceInput = z.infer<typeof CreateSource>
export type UpdateSourceInput = z.infer<typeof UpdateSource>
