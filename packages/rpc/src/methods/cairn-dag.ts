/**
 * The GhostDAG engine's DAG over JSON-RPC (docs/consensus/ghostdag.md): `cairn_getDagInfo()` —
 * tips, the virtual selected parent, blue score, DAA score, block totals (blue, red), blue ratio
 * and the transactions applied along the chain — and `cairn_getBlockDagData(hash)` — a block's
 * parents, children, blue score and work, selected parent, mergeset blues and reds, whether it is
 * on the chain, the chain block that accepted it and its colour there, and for a chain block
 * which DAG block carried each transaction it accepted (null for a block not in the DAG). On a
 * chain without a DAG both answer "not supported".
 */
import { CairnError } from '@cairn/utils'
import { z } from 'zod'
import type { RpcContext, RpcDag } from '../context.ts'
import { RpcErrorCode } from '../errors.ts'
import { type MethodDef, method } from '../method.ts'
import { hash32 } from '../schemas.ts'

function dagOf(ctx: RpcContext): RpcDag {
  if (ctx.dag === undefined) {
    throw new CairnError(RpcErrorCode.NOT_SUPPORTED, "this chain's engine keeps no block DAG (not a GhostDAG chain)", {
      fault: 'caller',
    })
  }
  return ctx.dag
}

export const cairnDagMethods: MethodDef[] = [
  method({
    name: 'cairn_getDagInfo',
    role: 'public',
    params: z.tuple([]),
    handler: (_p, ctx) => dagOf(ctx).dagInfo(),
  }),
  method({
    name: 'cairn_getBlockDagData',
    role: 'public',
    params: z.tuple([hash32]),
    handler: async ([hash], ctx) => (await dagOf(ctx).blockDagData(hash.toLowerCase() as `0x${string}`)) ?? null,
  }),
]
