import { z } from 'zod'

/**
 * Schemas of the JSON-RPC value types, applied to every parameter at the edge.
 *
 * Numbers come in two widths, as in Ethereum: block numbers, timestamps, nonces, gas, counts and
 * indexes are uint64 (`quantity`, `looseQuantity`, `numberOrHex`), refused above 2^64-1 with
 * geth's wording ({@link UINT64_RANGE}) instead of wrapping where the store keys them by 8 bytes;
 * values, balances, prices, chain ids and storage slots are uint256 (`looseUint256`,
 * `numberOrHex256`). A new numeric parameter takes one of them (test/rpc/uint64-bounds.int.test.ts
 * finds every numeric parameter of every method and fails on one that takes more than 64 bits
 * without being listed as a uint256 field).
 */

/** The largest uint64. */
export const MAX_UINT64 = (1n << 64n) - 1n

/** geth's message for a uint64 quantity that does not fit (hexutil.ErrUint64Range). */
export const UINT64_RANGE = 'hex number > 64 bits'

/** The value of `0x…` hex `s` when it fits 64 bits; undefined when it does not. */
export function uint64Of(s: string): bigint | undefined {
  // At most 16 significant digits fit; leading zeros (the loose forms) do not count.
  let i = 2
  while (i < s.length - 1 && s.charCodeAt(i) === 48) i++
  if (s.length - i > 16) return undefined
  return BigInt(s)
}

type Ctx = { addIssue(issue: { code: 'custom'; message: string }): void }

function toUint64(s: string, c: Ctx): bigint {
  const n = uint64Of(s)
  if (n !== undefined) return n
  c.addIssue({ code: 'custom', message: UINT64_RANGE })
  return z.NEVER
}

/** A uint64 quantity: hex without leading zeros (block numbers, indexes, counts). */
export const quantity = z
  .string()
  .regex(/^0x(0|[1-9a-fA-F][0-9a-fA-F]*)$/, 'expected a hex quantity without leading zeros, like 0x1a')
  .transform(toUint64)

/** Some clients send quantities with leading zeros in call objects; accept any hex there (a uint64: gas, nonce). */
export const looseQuantity = z
  .string()
  .regex(/^0x[0-9a-fA-F]{1,64}$/, 'expected a hex number, like 0x1a')
  .transform(toUint64)

/** A uint256 as call objects send it, leading zeros allowed (value, fees, chain id, balances). */
export const looseUint256 = z
  .string()
  .regex(/^0x[0-9a-fA-F]{1,64}$/, 'expected a hex number of at most 256 bits, like 0x1a')
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
    chainId: looseUint256,
    address,
    nonce: looseQuantity,
    yParity: looseQuantity,
    r: looseUint256,
    s: looseUint256,
  })
  .passthrough()

/** The transaction object of eth_call, eth_estimateGas and eth_sendTransaction. */
export const callRequest = z
  .object({
    from: address.optional(),
    to: address.nullable().optional(),
    gas: looseQuantity.optional(),
    gasPrice: looseUint256.optional(),
    maxFeePerGas: looseUint256.optional(),
    maxPriorityFeePerGas: looseUint256.optional(),
    value: looseUint256.optional(),
    data: data.optional(),
    input: data.optional(),
    nonce: looseQuantity.optional(),
    chainId: looseUint256.optional(),
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
      balance: looseUint256.optional(),
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
    baseFeePerGas: looseUint256.optional(),
    baseFee: looseUint256.optional(),
    prevRandao: hash32.optional(),
    random: hash32.optional(),
  })
  .strict()
export type BlockOverride = z.infer<typeof blockOverride>

/** What a `numberOrHex` was not: a hex string or a non-negative safe JSON integer. */
function notNumberOrHex(v: unknown, c: Ctx): never {
  c.addIssue({
    code: 'custom',
    message: `expected a hex number like "0x1a" or a non-negative integer like 26, got ${JSON.stringify(v) ?? String(v)}`,
  })
  return z.NEVER
}

/**
 * A uint64 as Anvil and Hardhat take it in their dev methods and `eth_feeHistory`'s block count:
 * a hex string (`"0x3"`) or a non-negative JSON integer (`3`).
 */
export const numberOrHex = z.unknown().transform((v, c) => {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v)
  if (typeof v === 'string' && /^0x[0-9a-fA-F]{1,64}$/.test(v)) return toUint64(v, c)
  return notNumberOrHex(v, c)
})

/** {@link numberOrHex} for a uint256 (balances, amounts, fees, snapshot ids). */
export const numberOrHex256 = z.unknown().transform((v, c) => {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v)
  if (typeof v === 'string' && /^0x[0-9a-fA-F]{1,64}$/.test(v)) return BigInt(v)
  return notNumberOrHex(v, c)
})

/**
 * A block as Erigon's `rpc.BlockNumber` reads it, and Otterscan sends it: a JSON integer (`26`),
 * a decimal string (`"26"`), or anything {@link blockRef} takes (a hex quantity, a tag, an
 * EIP-1898 object). The `ots_` and `erigon_` methods take blocks this way.
 */
export const lenientBlockRef = z.union(
  [
    z
      .number()
      .int()
      .nonnegative()
      .max(Number.MAX_SAFE_INTEGER)
      .transform((n) => BigInt(n)),
    z
      .string()
      .regex(/^(0|[1-9][0-9]{0,19})$/)
      .transform((s, c) => {
        const n = BigInt(s)
        if (n <= MAX_UINT64) return n
        c.addIssue({ code: 'custom', message: UINT64_RANGE })
        return z.NEVER
      }),
    blockRef,
  ],
  {
    error:
      'expected a block number (26, "26" or 0x1a), a tag (latest, earliest, pending, safe, finalized), or {blockHash} / {blockNumber}',
  },
)

type Issue = { path: PropertyKey[]; message: string; errors?: Issue[][] }

/**
 * The "hex number > 64 bits" issue behind a failed union (a block tag or number, a number or an
 * options object), with its full path; undefined when the union failed for another reason. A
 * number too large is the most useful thing to say about such input, as geth says it.
 */
export function uint64RangeIssue<I extends Issue>(issue: I): I | undefined {
  if (issue.message === UINT64_RANGE) return issue
  for (const option of issue.errors ?? []) {
    for (const inner of option) {
      const found = uint64RangeIssue(inner)
      if (found) return { ...found, path: [...issue.path, ...found.path] } as I
    }
  }
  return undefined
}

/** A method's answer (MethodDef `result`, checked by tests): a minimal hex quantity (`0x0`, `0x1a`). */
export const quantityResult = z.string().regex(/^0x(0|[1-9a-f][0-9a-f]*)$/)
