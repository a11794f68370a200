import { CairnError, toQuantity } from '@cairn/utils'
import { z } from 'zod'
import type { RpcContext } from '../context.ts'
import { type MethodDef, method } from '../method.ts'
import { looseQuantity } from '../schemas.ts'

function dev(ctx: RpcContext) {
  if (!ctx.dev)
    throw new CairnError('RPC_METHOD_NOT_FOUND', 'dev methods need a dev chain (--dev)', { fault: 'caller' })
  return ctx.dev
}

/** Anvil/Hardhat-compatible chain controls, served only in dev mode. */
export const devMethods: MethodDef[] = [
  method({
    name: 'evm_mine',
    devOnly: true,
    params: z.tuple([
      z
        .union([looseQuantity, z.object({ timestamp: looseQuantity.optional(), blocks: looseQuantity.optional() })])
        .optional(),
    ]),
    async handler([opts], ctx) {
      const d = dev(ctx)
      const timestamp = typeof opts === 'bigint' ? opts : opts?.timestamp
      if (timestamp !== undefined) d.setNextBlockTimestamp(timestamp)
      const blocks = typeof opts === 'object' && opts.blocks !== undefined ? opts.blocks : 1n
      for (let i = 0n; i < blocks; i++) await d.mine()
      return '0x0'
    },
  }),
  method({
    name: 'evm_increaseTime',
    devOnly: true,
    params: z.tuple([z.union([looseQuantity, z.number().int().nonnegative().transform(BigInt)])]),
    handler: ([s], ctx) => toQuantity(dev(ctx).increaseTime(s)),
  }),
  method({
    name: 'evm_setNextBlockTimestamp',
    devOnly: true,
    params: z.tuple([z.union([looseQuantity, z.number().int().nonnegative().transform(BigInt)])]),
    handler: ([t], ctx) => {
      dev(ctx).setNextBlockTimestamp(t)
      return null
    },
  }),
]
