import { bytesToHex, hexToBytes, toQuantity } from '@cairn/utils'
import { Address, KECCAK256_NULL, KECCAK256_RLP } from '@ethereumjs/util'
import { z } from 'zod'
import { formatTx } from '../format.ts'
import { type MethodDef, method } from '../method.ts'
import { findBlock, resolveBlock } from '../resolve.ts'
import { address, blockRef, blockRefOrHash, hash32, numberOrHex } from '../schemas.ts'
import { locateTx } from './eth-blocks.ts'

/** eth_getTransactionBySenderAndNonce (declared apart: ots_getTransactionBySenderAndNonce asks it). */
export const ethGetTransactionBySenderAndNonce = method({
  // Reth's and Anvil's: the transaction a sender sent with a nonce, mined or pooled.
  name: 'eth_getTransactionBySenderAndNonce',
  params: z.tuple([address, numberOrHex]),
  async handler([from, nonce], ctx) {
    const sender = new Address(hexToBytes(from))
    const pooled = [...ctx.pool.contentFrom(sender).pending, ...ctx.pool.contentFrom(sender).queued].find(
      (t) => t.nonce === nonce,
    )
    if (pooled) return formatTx(pooled)
    // Mined: the first block whose state has the sender's nonce past `nonce` holds it.
    const head = ctx.chain.head.header.number
    const nonceAt = async (n: bigint) => {
      const hash = await ctx.chain.getCanonicalHash(n)
      const block = hash ? await ctx.chain.getBlock(hash) : undefined
      const acc = block ? await ctx.chain.stateAfter(block.header).getAccount(sender) : undefined
      return acc?.nonce ?? 0n
    }
    if ((await nonceAt(head)) <= nonce) return null
    let lo = 0n
    let hi = head
    while (lo < hi) {
      const mid = (lo + hi) / 2n
      if ((await nonceAt(mid)) > nonce) hi = mid
      else lo = mid + 1n
    }
    const hash = await ctx.chain.getCanonicalHash(lo)
    const block = hash ? await ctx.chain.getBlock(hash) : undefined
    const index = block?.transactions.findIndex((t) => t.nonce === nonce && t.getSenderAddress().equals(sender)) ?? -1
    return block && index >= 0 ? formatTx(block.transactions[index] as never, { block, index }) : null
  },
})

/** Reth's and Anvil's account and raw-transaction reads beyond geth's set. */
export const ethAccountMethods: MethodDef[] = [
  method({
    name: 'eth_getAccount',
    readThread: 'answer',
    params: z.tuple([address, blockRefOrHash.optional()]),
    async handler([addr, ref], ctx) {
      const block = await resolveBlock(ctx, ref)
      const acc = await ctx.chain.stateAfter(block.header).getAccount(new Address(hexToBytes(addr)))
      // An absent account answers as an empty one, as Anvil (reth answers null).
      return {
        nonce: toQuantity(acc?.nonce ?? 0n),
        balance: toQuantity(acc?.balance ?? 0n),
        storageRoot: bytesToHex(acc?.storageRoot ?? KECCAK256_RLP),
        codeHash: bytesToHex(acc?.codeHash ?? KECCAK256_NULL),
      }
    },
  }),
  method({
    name: 'eth_getRawTransactionByHash',
    params: z.tuple([hash32]),
    async handler([hash], ctx) {
      const tx = (await locateTx(ctx, hash))?.tx ?? ctx.pool.get(hexToBytes(hash))
      return tx ? bytesToHex(tx.serialize()) : null
    },
  }),
  method({
    name: 'eth_getRawTransactionByBlockHashAndIndex',
    params: z.tuple([hash32, numberOrHex]),
    async handler([hash, index], ctx) {
      const block = await ctx.chain.getBlock(hexToBytes(hash))
      const tx =
        block && block.header.number <= ctx.chain.head.header.number ? block.transactions[Number(index)] : undefined
      return tx ? bytesToHex(tx.serialize()) : null
    },
  }),
  method({
    name: 'eth_getRawTransactionByBlockNumberAndIndex',
    params: z.tuple([blockRef, numberOrHex]),
    async handler([ref, index], ctx) {
      const tx = (await findBlock(ctx, ref))?.transactions[Number(index)]
      return tx ? bytesToHex(tx.serialize()) : null
    },
  }),
  ethGetTransactionBySenderAndNonce,
]
