import { bytesToHex, hexToBytes, toQuantity } from '@cairn/utils'
import { Address, setLengthLeft } from '@ethereumjs/util'
import { z } from 'zod'
import { callGas, estimateGas, prepareCall, throwIfFailed } from '../exec.ts'
import { type MethodDef, method } from '../method.ts'
import { resolveBlock } from '../resolve.ts'
import { address, blockRef, callRequest, looseQuantity } from '../schemas.ts'

/** Account state at a block: balance, nonce, code, storage; calls and gas estimation. */

async function stateAt(ctx: Parameters<MethodDef['handler']>[1], ref: z.infer<typeof blockRef> | undefined) {
  const block = await resolveBlock(ctx, ref)
  return { block, state: ctx.chain.executor.stateAt(block.header.stateRoot) }
}

export const ethStateMethods: MethodDef[] = [
  method({
    name: 'eth_getBalance',
    params: z.tuple([address, blockRef.optional()]),
    async handler([addr, ref], ctx) {
      const { state } = await stateAt(ctx, ref)
      const acc = await state.getAccount(new Address(hexToBytes(addr)))
      return toQuantity(acc?.balance ?? 0n)
    },
  }),
  method({
    name: 'eth_getTransactionCount',
    params: z.tuple([address, blockRef.optional()]),
    async handler([addr, ref], ctx) {
      if (ref === 'pending') return toQuantity(await ctx.pool.pendingNonce(new Address(hexToBytes(addr))))
      const { state } = await stateAt(ctx, ref)
      const acc = await state.getAccount(new Address(hexToBytes(addr)))
      return toQuantity(acc?.nonce ?? 0n)
    },
  }),
  method({
    name: 'eth_getCode',
    params: z.tuple([address, blockRef.optional()]),
    async handler([addr, ref], ctx) {
      const { state } = await stateAt(ctx, ref)
      return bytesToHex(await state.getCode(new Address(hexToBytes(addr))))
    },
  }),
  method({
    name: 'eth_getStorageAt',
    params: z.tuple([address, looseQuantity, blockRef.optional()]),
    async handler([addr, slot, ref], ctx) {
      const { state } = await stateAt(ctx, ref)
      const a = new Address(hexToBytes(addr))
      const key = setLengthLeft(hexToBytes(`0x${slot.toString(16)}`), 32)
      const acc = await state.getAccount(a)
      const value = acc ? await state.getStorage(a, key) : new Uint8Array()
      return bytesToHex(setLengthLeft(value, 32))
    },
  }),
  method({
    name: 'eth_call',
    params: z.tuple([callRequest, blockRef.optional()]),
    async handler([req, ref], ctx) {
      const block = await resolveBlock(ctx, ref)
      const call = await prepareCall(ctx, req, block)
      const res = await call.run(callGas(ctx, req))
      throwIfFailed(res)
      return bytesToHex(res.execResult.returnValue)
    },
  }),
  method({
    name: 'eth_estimateGas',
    params: z.tuple([callRequest, blockRef.optional()]),
    async handler([req, ref], ctx) {
      const block = await resolveBlock(ctx, ref)
      return toQuantity(await estimateGas(ctx, req, block))
    },
  }),
]
