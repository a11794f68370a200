import { toQuantity } from '@cairn/utils'
import { z } from 'zod'
import { formatHeader } from '../format.ts'
import { type MethodDef, method } from '../method.ts'
import { findBlock } from '../resolve.ts'
import { blockRef, hash32, numberOrHex } from '../schemas.ts'

/** Older and wallet-side names that Anvil answers too: aliases and uncle reads (proof-of-work history has uncles). */

export const ethCompatMethods: MethodDef[] = [
  method({ name: 'eth_requestAccounts', params: z.tuple([]), handler: (_p, ctx) => ctx.accounts.addresses() }),
  method({ name: 'eth_networkId', params: z.tuple([]), handler: (_p, ctx) => ctx.chain.chainId.toString() }),
  method({ name: 'eth_protocolVersion', params: z.tuple([]), handler: () => 1 }),
  method({
    name: 'eth_getUncleCountByBlockNumber',
    params: z.tuple([blockRef]),
    async handler([ref], ctx) {
      const block = await findBlock(ctx, ref)
      return block ? toQuantity(block.uncleHeaders.length) : null
    },
  }),
  method({
    name: 'eth_getUncleCountByBlockHash',
    params: z.tuple([hash32]),
    async handler([hash], ctx) {
      const block = await findBlock(ctx, { blockHash: hash })
      return block ? toQuantity(block.uncleHeaders.length) : null
    },
  }),
  method({
    name: 'eth_getUncleByBlockNumberAndIndex',
    params: z.tuple([blockRef, numberOrHex]),
    async handler([ref, index], ctx) {
      const uncle = (await findBlock(ctx, ref))?.uncleHeaders[Number(index)]
      return uncle ? formatHeader(uncle) : null
    },
  }),
  method({
    name: 'eth_getUncleByBlockHashAndIndex',
    params: z.tuple([hash32, numberOrHex]),
    async handler([hash, index], ctx) {
      const uncle = (await findBlock(ctx, { blockHash: hash }))?.uncleHeaders[Number(index)]
      return uncle ? formatHeader(uncle) : null
    },
  }),
  method({
    name: 'eth_getHeaderByNumber',
    params: z.tuple([blockRef]),
    async handler([ref], ctx) {
      const block = await findBlock(ctx, ref)
      return block ? formatHeader(block.header, block.hash()) : null
    },
  }),
  method({
    name: 'eth_getHeaderByHash',
    params: z.tuple([hash32]),
    async handler([hash], ctx) {
      const block = await findBlock(ctx, { blockHash: hash })
      return block ? formatHeader(block.header, block.hash()) : null
    },
  }),
]
