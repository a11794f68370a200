import { hexToBytes } from '@cairn/utils'
import type { TypedTransaction } from '@ethereumjs/tx'
import { Address } from '@ethereumjs/util'
import { z } from 'zod'
import type { RpcContext } from '../context.ts'
import { invalidParams } from '../errors.ts'
import { estimateGas } from '../exec.ts'
import { impersonatedTx, isImpersonated } from '../impersonation.ts'
import { type MethodDef, method } from '../method.ts'
import { type CallRequest, callRequest, data, numberOrHex } from '../schemas.ts'
import { dev } from './dev.ts'
import { decodeRawTx, fillRequest, signRequest } from './eth-send.ts'

/**
 * anvil_reorg(depth, [[tx, blockOffset], …]), as Anvil 1.7 does it: the last `depth` blocks are
 * replaced with `depth` new blocks sealed now on their common ancestor, the one at offset `i`
 * (0 = the ancestor's child) carrying the transactions paired with `i`. A transaction is raw (signed)
 * bytes or a request as eth_sendTransaction takes it (from an unlocked or impersonated account;
 * `from` defaults to the first account), nonces counted from the ancestor's state. The old blocks'
 * transactions are not put back in the pool. Cairn keeps the old blocks as a side branch and
 * announces a reorg (subscriptions and filters get the removed logs).
 */
const pair = z.tuple([z.union([data, callRequest]), numberOrHex])

async function toTx(
  ctx: RpcContext,
  input: `0x${string}` | CallRequest,
  nonces: Map<string, bigint>,
  ancestor: bigint,
): Promise<TypedTransaction> {
  if (typeof input === 'string') {
    try {
      return decodeRawTx(ctx.chain.common, hexToBytes(input))
    } catch {
      throw invalidParams('Failed to decode transaction')
    }
  }
  const from = (input.from ?? ctx.accounts.addresses()[0])?.toLowerCase() as `0x${string}` | undefined
  if (!from) throw invalidParams('No Signer available')
  let nonce = nonces.get(from)
  if (nonce === undefined) {
    const block = await ctx.chain.getBlockByNumber(ancestor)
    const state = block && ctx.chain.stateAfter(block.header)
    nonce = state ? ((await state.getAccount(new Address(hexToBytes(from))))?.nonce ?? 0n) : 0n
  }
  nonces.set(from, nonce + 1n)
  const req: CallRequest = { ...input, from, nonce: input.nonce ?? nonce }
  // As Anvil: the gas is estimated when not given, and a failed estimate leaves the block's limit.
  if (req.gas === undefined) {
    req.gas = await estimateGas(ctx, req, ctx.chain.head).catch(() => ctx.chain.head.header.gasLimit)
  }
  if (!ctx.accounts.privateKey(from) && isImpersonated(ctx, from)) {
    return impersonatedTx(ctx, await fillRequest(ctx, req), from)
  }
  return signRequest(ctx, req)
}

export const devReorgMethods: MethodDef[] = [
  method({
    name: 'anvil_reorg',
    devOnly: true,
    params: z.tuple([numberOrHex, z.array(pair)]),
    async handler([depth, pairs], ctx) {
      const height = ctx.chain.head.header.number
      if (depth > height) {
        throw invalidParams(
          `Reorg depth must not exceed current chain height: current height ${height}, depth ${depth}`,
        )
      }
      if (depth === 0n) throw invalidParams('Reorg depth must be at least 1')
      const beyond = pairs.find(([, n]) => n >= depth)
      if (beyond) {
        throw invalidParams(
          `Block number for reorg tx will exceed the reorged chain height. Block number ${beyond[1]} must not exceed (depth-1) ${depth - 1n}`,
        )
      }
      const sorted = [...pairs].sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
      const nonces = new Map<string, bigint>()
      const blocks: TypedTransaction[][] = Array.from({ length: Number(depth) }, () => [])
      for (const [input, offset] of sorted) {
        ;(blocks[Number(offset)] as TypedTransaction[]).push(await toTx(ctx, input, nonces, height - depth))
      }
      await dev(ctx).reorg(depth, blocks)
      return null
    },
  }),
]
