/**
 * Proof-of-work mining over JSON-RPC, with geth's methods: `eth_getWork` (the current work:
 * [seal hash, seed hash, boundary, number]), `eth_submitWork(nonce, sealHash, mixDigest)`,
 * `eth_submitHashrate(rate, id)`, `eth_hashrate`, `eth_mining`, `eth_coinbase`; and
 * `cairn_acceptBranch(hash)` (admin), the way out of the reorg limit for a node that was isolated.
 * They answer from the engine's work API (`ctx.mining`, a PoW chain); elsewhere as Anvil's:
 * `eth_mining` true, `eth_hashrate` 0, the coinbase the zero address, and the work methods
 * -32603 "Not implemented". One difference from geth: a refused `eth_submitWork` is an error
 * (-32000) whose `data.code` says why (`CONSENSUS_POW_STALE_WORK`, `…_UNKNOWN_WORK`,
 * `…_INVALID_SEAL`, `…_INSUFFICIENT_WORK`), where geth answers `false` for all of them.
 */
import { bytesToHex, CairnError, hexToBytes, toQuantity } from '@cairn/utils'
import { z } from 'zod'
import type { RpcContext, RpcMining } from '../context.ts'
import { invalidParams, RpcErrorCode } from '../errors.ts'
import { type MethodDef, method } from '../method.ts'
import { hash32, looseQuantity } from '../schemas.ts'

const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000'

const nonce8 = z
  .string()
  .regex(/^0x[0-9a-fA-F]{16}$/, 'expected an 8-byte hex nonce, like 0x0000000000000001')
  .transform((s) => hexToBytes(s as `0x${string}`))
const bytes32 = hash32.transform((s) => hexToBytes(s))

/** geth's `(types.BlockNonce, common.Hash, common.Hash)` and `(hexutil.Uint64, common.Hash)`. */
const SUBMIT_WORK = z.tuple([nonce8, bytes32, bytes32])
const SUBMIT_HASHRATE = z.tuple([looseQuantity, bytes32])

function parse<T extends z.ZodType>(schema: T, params: unknown[]): z.output<T> {
  const parsed = schema.safeParse(params)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw invalidParams(`invalid argument ${String(issue?.path[0] ?? 0)}: ${issue?.message ?? 'bad params'}`)
  }
  return parsed.data
}

function workOf(ctx: RpcContext, name: string): RpcMining {
  if (ctx.mining === undefined) {
    throw new CairnError(RpcErrorCode.NOT_IMPLEMENTED, `Not implemented: ${name} (the chain has no proof-of-work)`, {
      fault: 'caller',
    })
  }
  return ctx.mining
}

export const ethMiningMethods: MethodDef[] = [
  method({
    name: 'eth_coinbase',
    params: z.tuple([]),
    handler: (_p, ctx) => {
      const coinbase = ctx.mining?.coinbase()
      return coinbase ? bytesToHex(coinbase) : ZERO_ADDRESS
    },
  }),
  method({
    name: 'eth_mining',
    params: z.tuple([]),
    handler: (_p, ctx) => (ctx.mining ? ctx.mining.isMining() : true),
  }),
  method({
    name: 'eth_hashrate',
    params: z.tuple([]),
    handler: (_p, ctx) => toQuantity(ctx.mining ? ctx.mining.hashRate() : 0n),
  }),
  method({
    name: 'eth_getWork',
    params: z.tuple([]),
    handler: (_p, ctx) => workOf(ctx, 'eth_getWork').getWork(),
  }),
  // Without proof of work these answer "Not implemented" whatever their params, as Anvil's do:
  // the params are checked once the engine is known to serve them.
  method({
    name: 'eth_submitWork',
    params: z.array(z.unknown()),
    handler: (params, ctx) => {
      const work = workOf(ctx, 'eth_submitWork')
      const [nonce, sealHash, mixDigest] = parse(SUBMIT_WORK, params)
      return work.submitWork(nonce, sealHash, mixDigest)
    },
  }),
  method({
    name: 'eth_submitHashrate',
    params: z.array(z.unknown()),
    handler: (params, ctx) => {
      const work = workOf(ctx, 'eth_submitHashrate')
      const [rate, id] = parse(SUBMIT_HASHRATE, params)
      return work.submitHashrate(rate, id)
    },
  }),
  method({
    name: 'cairn_acceptBranch',
    role: 'admin',
    params: z.tuple([bytes32]),
    handler: async ([hash], ctx) => {
      const out = await workOf(ctx, 'cairn_acceptBranch').acceptBranch(hash)
      return { number: toQuantity(out.number), canonical: out.canonical }
    },
  }),
]
