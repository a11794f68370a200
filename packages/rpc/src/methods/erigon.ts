import { z } from 'zod'
import { formatBlock } from '../format.ts'
import { type MethodDef, method } from '../method.ts'
import { findBlock } from '../resolve.ts'
import { lenientBlockRef } from '../schemas.ts'

/**
 * Erigon's `erigon_` namespace, as far as Otterscan needs it: `erigon_getHeaderByNumber` is its
 * probe (an "Erigon node" answers it) and how it reads the latest block. As Anvil: the block without
 * its transactions' bodies (their hashes), or null past the head; the number as Otterscan sends it
 * (a JSON integer) or any block reference.
 */
export const erigonMethods: MethodDef[] = [
  method({
    name: 'erigon_getHeaderByNumber',
    params: z.tuple([lenientBlockRef]),
    async handler([ref], ctx) {
      const block = await findBlock(ctx, ref)
      return block ? formatBlock(block, false, { anvil: ctx.limits.receiptTimestamps }) : null
    },
  }),
]
