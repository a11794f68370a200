import { bytesToHex, toQuantity } from '@cairn/utils'
import { z } from 'zod'
import { type MethodDef, method } from '../method.ts'

/** Every resource Cairn keeps: an archive from genesis, nothing ever deleted (the state trie is never pruned). */
const KEPT = { disabled: false, oldestBlock: '0x0' }

/** eth_capabilities (execution-apis src/eth/capabilities.yaml): what history this node can serve. */
export const ethCapabilitiesMethods: MethodDef[] = [
  method({
    name: 'eth_capabilities',
    params: z.tuple([]),
    handler(_p, ctx) {
      const head = ctx.chain.head
      return {
        head: { number: toQuantity(head.header.number), hash: bytesToHex(head.hash()) },
        state: KEPT,
        tx: KEPT,
        logs: KEPT,
        receipts: KEPT,
        blocks: KEPT,
        stateproofs: KEPT,
      }
    },
  }),
]
