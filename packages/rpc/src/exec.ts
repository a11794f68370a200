import { bytesToHex, CairnError, hexToBytes } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import type { EVMResult } from '@ethereumjs/evm'
import { createTx } from '@ethereumjs/tx'
import { Address, createZeroAddress } from '@ethereumjs/util'
import type { VM } from '@ethereumjs/vm'
import type { RpcContext } from './context.ts'
import { RpcErrorCode } from './errors.ts'
import type { CallRequest } from './schemas.ts'

/** A call prepared against one block's state: run it as often as needed (gas estimation). */
export interface PreparedCall {
  /** The least gas a transaction with this input must provide (intrinsic, or the EIP-7623 floor). */
  minimumGas: bigint
  run(gasLimit: bigint): Promise<EVMResult>
}

/** Prepares `req` against the state after `block` (eth_call, eth_estimateGas). */
export async function prepareCall(ctx: RpcContext, req: CallRequest, block: Block): Promise<PreparedCall> {
  const { chain } = ctx
  const vm: VM = await chain.executor.vmAt(block.header, chain.store)
  const caller = req.from ? new Address(hexToBytes(req.from)) : createZeroAddress()
  const to = req.to ? new Address(hexToBytes(req.to)) : undefined
  const data = hexToBytes(req.input ?? req.data ?? '0x')
  const value = req.value ?? 0n
  const gasPrice = req.gasPrice ?? req.maxFeePerGas ?? 0n
  const shape = createTx(
    {
      ...(to ? { to } : {}),
      data,
      value,
      gasLimit: 0n,
      ...(req.accessList ? { accessList: req.accessList, type: 1 } : {}),
    },
    { common: chain.common },
  )
  const minimumGas = shape.getMinimumGasLimit()
  const intrinsic = shape.getIntrinsicGas()
  if (gasPrice > 0n || value > 0n) {
    // As geth: with a gas price the caller must afford gas and value; without one, the value.
    const balance = (await vm.stateManager.getAccount(caller))?.balance ?? 0n
    if (balance < value) {
      throw new CairnError(RpcErrorCode.EXECUTION_FAILED, 'insufficient funds for transfer', { fault: 'caller' })
    }
    if (gasPrice > 0n && balance < (req.gas ?? ctx.limits.gasCap) * gasPrice + value) {
      throw new CairnError(RpcErrorCode.EXECUTION_FAILED, 'insufficient funds for gas * price + value', {
        fault: 'caller',
      })
    }
  }
  return {
    minimumGas,
    async run(gasLimit: bigint): Promise<EVMResult> {
      await vm.evm.journal.checkpoint()
      try {
        return await vm.evm.runCall({
          block,
          caller,
          origin: caller,
          ...(to ? { to } : {}),
          data,
          value,
          gasPrice,
          gasLimit: gasLimit > intrinsic ? gasLimit - intrinsic : 0n,
          skipBalance: gasPrice === 0n,
        })
      } finally {
        await vm.evm.journal.revert()
        vm.evm.journal.cleanup()
      }
    },
  }
}

/** The gas limit a call runs with: the request's, capped by the RPC gas cap. */
export function callGas(ctx: RpcContext, req: CallRequest): bigint {
  const cap = ctx.limits.gasCap
  return req.gas !== undefined && req.gas < cap ? req.gas : cap
}

/** Throws the JSON-RPC error for a failed execution: code 3 with revert data, else -32000. */
export function throwIfFailed(res: EVMResult): void {
  const err = res.execResult.exceptionError
  if (!err) return
  if (err.error === 'revert') throw revertError(res.execResult.returnValue)
  throw new CairnError(RpcErrorCode.EXECUTION_FAILED, err.error, { fault: 'caller' })
}

export function revertError(returnValue: Uint8Array): CairnError {
  const reason = decodeRevertReason(returnValue)
  return new CairnError(RpcErrorCode.REVERTED, reason ? `execution reverted: ${reason}` : 'execution reverted', {
    fault: 'caller',
    meta: { data: bytesToHex(returnValue) },
  })
}

const ERROR_SELECTOR = '08c379a0'
const PANIC_SELECTOR = '4e487b71'

/** The reason of `Error(string)` or the code of `Panic(uint256)`, if that is what was returned. */
export function decodeRevertReason(data: Uint8Array): string | undefined {
  const hex = Buffer.from(data).toString('hex')
  if (hex.startsWith(ERROR_SELECTOR) && data.length >= 68) {
    const len = Number(BigInt(`0x${hex.slice(8 + 64, 8 + 128)}`))
    if (data.length >= 68 + len) return Buffer.from(data.subarray(68, 68 + len)).toString('utf8')
  }
  if (hex.startsWith(PANIC_SELECTOR) && data.length >= 36) {
    return `panic: 0x${BigInt(`0x${hex.slice(8, 72)}`).toString(16)}`
  }
  return undefined
}

/**
 * The least gas limit with which the call succeeds, by binary search as geth does; it is enough
 * to run the transaction. A call that fails at the cap reports why.
 */
export async function estimateGas(ctx: RpcContext, req: CallRequest, block: Block): Promise<bigint> {
  const call = await prepareCall(ctx, req, block)
  let hi = req.gas ?? block.header.gasLimit
  if (hi > ctx.limits.gasCap) hi = ctx.limits.gasCap
  const first = await call.run(hi)
  if (first.execResult.exceptionError) {
    if (first.execResult.exceptionError.error === 'revert') throw revertError(first.execResult.returnValue)
    throw new CairnError(RpcErrorCode.EXECUTION_FAILED, `gas required exceeds allowance (${hi})`, { fault: 'caller' })
  }
  let lo = call.minimumGas - 1n
  // Most calls succeed with what they used plus the 63/64 reserve: try that first.
  const used = first.execResult.executionGasUsed + call.minimumGas
  const optimistic = ((used + (first.execResult.gasRefund ?? 0n) + 2300n) * 64n) / 63n
  if (optimistic < hi) {
    const r = await call.run(optimistic)
    if (!r.execResult.exceptionError) hi = optimistic
    else lo = optimistic
  }
  while (lo + 1n < hi) {
    const mid = (lo + hi) / 2n
    const r = await call.run(mid)
    if (r.execResult.exceptionError) lo = mid
    else hi = mid
  }
  return hi
}
