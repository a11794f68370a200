import { toQuantity } from '@cairn/utils'
import { z } from 'zod'
import { type MethodDef, method } from '../method.ts'

/** geth's admin namespace over the node's network (`RpcContext.network`); role `admin`. */
export const adminMethods: MethodDef[] = [
  method({
    name: 'admin_nodeInfo',
    params: z.tuple([]),
    handler: (_p, ctx) => {
      const info = ctx.network.nodeInfo()
      return {
        id: info.id,
        name: ctx.clientVersion,
        listenAddrs: info.listenAddrs,
        chainId: toQuantity(ctx.chain.chainId),
      }
    },
  }),
  method({
    name: 'admin_peers',
    params: z.tuple([]),
    handler: (_p, ctx) =>
      ctx.network.peers().map((p) => ({ id: p.id, network: { remoteAddress: p.remoteAddress, inbound: p.inbound } })),
  }),
  method({
    name: 'admin_addPeer',
    params: z.tuple([z.string().min(1).max(1024)]),
    handler: ([address], ctx) => ctx.network.addPeer(address),
  }),
  method({
    name: 'admin_removePeer',
    params: z.tuple([z.string().min(1).max(1024)]),
    handler: ([address], ctx) => ctx.network.removePeer(address),
  }),
]
