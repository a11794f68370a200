import { CairnError } from '@cairn/utils'
import { z } from 'zod'
import type { RpcContext } from '../context.ts'
import { RpcErrorCode } from '../errors.ts'
import { type MethodDef, method } from '../method.ts'
import { numberOrHex } from '../schemas.ts'

/** The dev controls; -32601 on a chain that is not a dev chain. */
export function dev(ctx: RpcContext) {
  if (!ctx.dev)
    throw new CairnError(RpcErrorCode.METHOD_NOT_FOUND, 'dev methods need a dev chain (--dev)', { fault: 'caller' })
  return ctx.dev
}

/** The most blocks one evm_mine / anvil_mine makes (each is sealed and committed). */
export const MAX_BLOCKS_PER_CALL = 10_000n

/** Refuses a mining call asking for more than {@link MAX_BLOCKS_PER_CALL} blocks (evm_mine, anvil_mine, evm_mine_detailed). */
export function checkBlocksPerCall(blocks: bigint): void {
  if (blocks > MAX_BLOCKS_PER_CALL) {
    throw new CairnError(
      RpcErrorCode.LIMIT,
      `cannot mine ${blocks} blocks in one call (at most ${MAX_BLOCKS_PER_CALL})`,
      {
        fault: 'caller',
        hint: 'call it again for more blocks',
      },
    )
  }
}

/** Anvil/Hardhat-compatible chain controls, served only in dev mode. */
export const devMethods: MethodDef[] = [
  method({
    name: 'evm_mine',
    devOnly: true,
    params: z.tuple([
      z
        .union([numberOrHex, z.object({ timestamp: numberOrHex.optional(), blocks: numberOrHex.optional() })])
        .optional(),
    ]),
    async handler([opts], ctx) {
      const d = dev(ctx)
      const timestamp = typeof opts === 'bigint' ? opts : opts?.timestamp
      if (timestamp !== undefined) d.setNextBlockTimestamp(timestamp)
      const blocks = typeof opts === 'object' && opts.blocks !== undefined ? opts.blocks : 1n
      checkBlocksPerCall(blocks)
      for (let i = 0n; i < blocks; i++) await d.mine()
      return '0x0'
    },
  }),
  method({
    name: 'evm_increaseTime',
    devOnly: true,
    params: z.tuple([numberOrHex]),
    // A JSON number, as Anvil and Hardhat answer (the total offset in seconds).
    handler: ([s], ctx) => Number(dev(ctx).increaseTime(s)),
  }),
  method({
    name: 'evm_setNextBlockTimestamp',
    devOnly: true,
    params: z.tuple([numberOrHex]),
    handler: ([t], ctx) => {
      dev(ctx).setNextBlockTimestamp(t)
      return null
    },
  }),
]
