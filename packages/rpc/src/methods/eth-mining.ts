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
import { RpcErrorCode } from '../errors.ts'
import { type MethodDef, method } from '../method.ts'
import { hash32, looseUint256 } from '../schemas.ts'

const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000'

const nonce8 = z
  .string()
  .regex(/^0x[0-9a-fA-F]{16}$/, 'expected an 8-byte hex nonce, like 0x0000000000000001')
  .transform((s) => hexToBytes(s as `0x${string}`))
const bytes32 = hash32.transform((s) => hexToBytes(s))

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
  method({
    name: 'eth_submitWork',
    params: z.tuple([nonce8, bytes32, bytes32]),
    handler: ([nonce, sealHash, mixDigest], ctx) =>
      workOf(ctx, 'eth_submitWork').submitWork(nonce, sealHash, mixDigest),
  }),
  method({
    name: 'eth_submitHashrate',
    params: z.tuple([looseUint256, bytes32]),
    handler: ([rate, id], ctx) => workOf(ctx, 'eth_submitHashrate').submitHashrate(rate, id),
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
