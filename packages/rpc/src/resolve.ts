import type { ChainReader } from '@cairn/chain'
import { bytesToHex, equalsBytes, hexToBytes } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { notFound } from './errors.ts'
import type { BlockRef } from './schemas.ts'

/** The block a block parameter names, or a "header not found" error (-32000, as geth). */
export async function resolveBlock(ctx: { chain: ChainReader }, ref: BlockRef | undefined): Promise<Block> {
  const block = await findBlock(ctx, ref ?? 'latest')
  if (!block) throw notFound('header not found')
  return block
}

/**
 * The block `ref` names when it is the head (latest, pending, or the head's number): the one a
 * read can answer from without waiting. Undefined for any other block (resolve it with
 * {@link resolveBlock}).
 */
export function headNamed(ctx: { chain: ChainReader }, ref: BlockRef | undefined): Block | undefined {
  const { head } = ctx.chain
  if (ref === undefined || ref === 'latest' || ref === 'pending') return head
  if (typeof ref === 'bigint') return ref === head.header.number ? head : undefined
  if (typeof ref === 'object' && 'blockNumber' in ref) return ref.blockNumber === head.header.number ? head : undefined
  return undefined
}

/** Like resolveBlock, but undefined for a block that does not exist (getBlockBy* return null). */
export async function findBlock(ctx: { chain: ChainReader }, ref: BlockRef): Promise<Block | undefined> {
  const { chain } = ctx
  if (typeof ref === 'bigint') return ref === chain.head.header.number ? chain.head : chain.getBlockByNumber(ref)
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
  const block = await chain.getBlock(hash)
  if (!block) return undefined
  if (ref.requireCanonical) {
    const canonical = await chain.getCanonicalHash(block.header.number)
    if (!canonical || !equalsBytes(canonical, hash)) {
      throw notFound(`block ${bytesToHex(hash)} is not canonical`)
    }
  }
  return block
}
