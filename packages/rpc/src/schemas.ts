import { z } from 'zod'

/** Schemas of the JSON-RPC value types, applied to every parameter at the edge. */

export const quantity = z
  .string()
  .regex(/^0x(0|[1-9a-fA-F][0-9a-fA-F]*)$/, 'expected a hex quantity without leading zeros, like 0x1a')
  .transform((s) => BigInt(s))

/** Some clients send quantities with leading zeros in call objects; accept any hex there. */
export const looseQuantity = z
  .string()
  .regex(/^0x[0-9a-fA-F]{1,64}$/, 'expected a hex number, like 0x1a')
  .transform((s) => BigInt(s))

export const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, 'expected a 20-byte hex address')
  .transform((s) => s.toLowerCase() as `0x${string}`)

export const hash32 = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/, 'expected a 32-byte hex hash')
  .transform((s) => s.toLowerCase() as `0x${string}`)

export const data = z
  .string()
  .regex(/^0x([0-9a-fA-F]{2})*$/, 'expected 0x-prefixed hex bytes of even length')
  .transform((s) => s.toLowerCase() as `0x${string}`)

export const blockTag = z.enum(['latest', 'earliest', 'pending', 'safe', 'finalized'])

/** A block number, a tag, or an EIP-1898 object. */
export const blockRef = z.union(
  [
    blockTag,
    quantity,
    z.object({ blockNumber: quantity }).strict(),
    z.object({ blockHash: hash32, requireCanonical: z.boolean().optional() }).strict(),
  ],
  {
    error:
      'expected a block number as a hex quantity without leading zeros (0x1a), a tag (latest, earliest, pending, safe, finalized), or {blockHash} / {blockNumber}',
  },
)
export type BlockRef = z.infer<typeof blockRef>

/**
 * The spec's BlockNumberOrTagOrHash: also a bare 32-byte block hash (geth reads a 66-character
 * string as a hash), which becomes the `{blockHash}` form.
 */
export const blockRefOrHash = z.union([
  // A tag first: most calls name one, and every option tried before the match costs a failed parse.
  blockTag,
  z
    .string()
    .regex(/^0x[0-9a-fA-F]{64}$/)
    .transform((s) => ({ blockHash: s.toLowerCase() as `0x${string}` })),
  blockRef,
])

const accessList = z.array(z.object({ address, storageKeys: z.array(hash32) }))

/** A signed EIP-7702 authorization (type-4 transactions), as viem and geth write it. */
const authorization = z
  .object({
    chainId: looseQuantity,
    address,
    nonce: looseQuantity,
    yParity: looseQuantity,
    r: looseQuantity,
    s: looseQuantity,
  })
  .passthrough()

/** The transaction object of eth_call, eth_estimateGas and eth_sendTransaction. */
export const callRequest = z
  .object({
    from: address.optional(),
    to: address.nullable().optional(),
    gas: looseQuantity.optional(),
    gasPrice: looseQuantity.optional(),
    maxFeePerGas: looseQuantity.optional(),
    maxPriorityFeePerGas: looseQuantity.optional(),
    value: looseQuantity.optional(),
    data: data.optional(),
    input: data.optional(),
    nonce: looseQuantity.optional(),
    chainId: looseQuantity.optional(),
    type: looseQuantity.optional(),
    accessList: accessList.optional(),
    authorizationList: z.array(authorization).optional(),
  })
  .passthrough()
export type CallRequest = z.infer<typeof callRequest>

const topic = z.union([hash32, z.null(), z.array(hash32.nullable())])

export const logFilter = z
  .object({
    fromBlock: z.union([blockTag, quantity]).optional(),
    toBlock: z.union([blockTag, quantity]).optional(),
    blockHash: hash32.optional(),
    address: z.union([address, z.array(address)]).optional(),
    topics: z.array(topic).max(4).optional(),
  })
  .strict()
export type LogFilter = z.infer<typeof logFilter>

const slotMap = z.record(z.string().regex(/^0x[0-9a-fA-F]{1,64}$/, 'expected a 32-byte storage slot'), hash32)

/** geth's state override set of eth_call: per address, balance/nonce/code and storage. */
export const stateOverride = z.record(
  address,
  z
    .object({
      balance: looseQuantity.optional(),
      nonce: looseQuantity.optional(),
      code: data.optional(),
      state: slotMap.optional(),
      stateDiff: slotMap.optional(),
    })
    .strict()
    .refine((o) => !(o.state && o.stateDiff), 'state and stateDiff cannot both be set'),
)
export type StateOverride = z.infer<typeof stateOverride>

/** geth's block overrides of eth_call. */
export const blockOverride = z
  .object({
    number: looseQuantity.optional(),
    time: looseQuantity.optional(),
    gasLimit: looseQuantity.optional(),
    feeRecipient: address.optional(),
    coinbase: address.optional(),
    baseFeePerGas: looseQuantity.optional(),
    baseFee: looseQuantity.optional(),
    prevRandao: hash32.optional(),
    random: hash32.optional(),
  })
  .strict()
export type BlockOverride = z.infer<typeof blockOverride>

/**
 * A quantity as Anvil and Hardhat take it in their dev methods and `eth_feeHistory`'s block count:
 * a hex string (`"0x3"`) or a non-negative JSON integer (`3`).
 */
export const numberOrHex = z.unknown().transform((v, c) => {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v)
  if (typeof v === 'string' && /^0x[0-9a-fA-F]{1,64}$/.test(v)) return BigInt(v)
  c.addIssue({
    code: 'custom',
    message: `expected a hex number like "0x1a" or a non-negative integer like 26, got ${JSON.stringify(v) ?? String(v)}`,
  })
  return z.NEVER
})
