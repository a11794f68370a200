import { bytesToHex, equalsBytes, hexToBytes } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import type { RpcContext } from './context.ts'
import { notFound } from './errors.ts'
import type { BlockRef } from './schemas.ts'

/** The block a block parameter names, or a "header not found" error (-32000, as geth). */
export async function resolveBlock(ctx: RpcContext, ref: BlockRef | undefined): Promise<Block> {
  const block = await findBlock(ctx, ref ?? 'latest')
  if (!block) throw notFound('header not found')
  return block
}

/** Like resolveBlock, but undefined for a block that does not exist (getBlockBy* return null). */
export async function findBlock(ctx: RpcContext, ref: BlockRef): Promise<Block | undefined> {
  const { chain } = ctx
  if (typeof ref === 'bigint') return ref === chain.head.header.number ? chain.head : chain.store.getBlockByNumber(ref)
  if (typeof ref === 'string') {
    switch (ref) {
      case 'latest':
      case 'pending':
        return chain.head
      case 'earliest':
        return chain.genesisBlock
      case 'safe':
      case 'finalized':
        return chain.checkpoint(ref)
    }
  }
  if ('blockNumber' in ref) return findBlock(ctx, ref.blockNumber)
  const hash = hexToBytes(ref.blockHash)
  const block = await chain.store.getBlock(hash)
  if (!block) return undefined
  if (ref.requireCanonical) {
    const canonical = await chain.store.getCanonicalHash(block.header.number)
    if (!canonical || !equalsBytes(canonical, hash)) {
      throw notFound(`block ${bytesToHex(hash)} is not canonical`)
    }
  }
  return block
}
