import { bytesToHex, CairnError, hexToBytes } from '@cairn/utils'
import { type Block, createBlock, type HeaderData } from '@ethereumjs/block'
import type { EVMResult } from '@ethereumjs/evm'
import { createTx } from '@ethereumjs/tx'
import { Address, createZeroAddress, setLengthLeft } from '@ethereumjs/util'
import type { VM } from '@ethereumjs/vm'
import type { CallOutcome } from './call-cache.ts'
import { type CallVm, callVms, timeoutError } from './call-vms.ts'
import type { RpcContext } from './context.ts'
import { RpcErrorCode } from './errors.ts'
import type { BlockOverride, CallRequest, StateOverride } from './schemas.ts'

type AccessListEntry = { address: `0x${string}`; storageKeys: `0x${string}`[] }

/** A call prepared against one block's state: run it as often as needed (gas estimation). */
export interface PreparedCall {
  /** The private VM the call runs in (tracers attach to its EVM events). */
  vm: VM
  /** The intrinsic gas of a transaction with this input. */
  intrinsicGas: bigint
  /** The least gas a transaction with this input must provide (intrinsic, or the EIP-7623 floor). */
  minimumGas: bigint
  run(gasLimit: bigint): Promise<EVMResult>
  /** The access list of the last run (with `reportAccessList`), without sender, recipient and precompiles. */
  accessList(): AccessListEntry[]
}

export { timeoutError }

/** What eth_call may override: state per account, and block fields (as geth). */
export interface CallOverrides {
  state?: StateOverride
  block?: BlockOverride
  /** Report the accounts and slots the call touches (eth_createAccessList). */
  reportAccessList?: boolean
}

/**
 * Prepares `req` against the state after `block` (eth_call, eth_estimateGas), with optional state
 * and block overrides, on a private VM of its own (tracers attach to its events). Every run shares
 * one deadline, `limits.evmTimeoutMs` from now. Prefer {@link withCall}, which reuses VMs.
 */
export async function prepareCall(
  ctx: RpcContext,
  req: CallRequest,
  baseBlock: Block,
  overrides: CallOverrides = {},
): Promise<PreparedCall> {
  const cv = await callVms(ctx).create(baseBlock)
  return prepareOn(ctx, cv, req, baseBlock, overrides)
}

/**
 * Runs `fn` with `req` prepared against the state after `block`. Without state or block overrides
 * the call borrows a VM kept for that block (see {@link CallVmPool}): each run is a state
 * checkpoint reverted at its end, so nothing one call writes is seen by the next. With overrides
 * the call gets a private VM, as {@link prepareCall}.
 */
export async function withCall<T>(
  ctx: RpcContext,
  req: CallRequest,
  block: Block,
  overrides: CallOverrides,
  fn: (call: PreparedCall) => Promise<T>,
): Promise<T> {
  const pool = callVms(ctx)
  const cv = overrides.state || overrides.block ? await pool.create(block) : await pool.acquire(block)
  try {
    return await fn(await prepareOn(ctx, cv, req, block, overrides))
  } finally {
    pool.release(cv)
  }
}

async function prepareOn(
  ctx: RpcContext,
  cv: CallVm,
  req: CallRequest,
  baseBlock: Block,
  overrides: CallOverrides,
): Promise<PreparedCall> {
  const { chain } = ctx
  const { vm } = cv
  if (overrides.state) {
    // Kept inside a checkpoint that is never closed: nothing is flushed into the view's own trie,
    // which must stay at the block's root for its reads through the shared view to be right.
    cv.reusable = false
    await vm.stateManager.checkpoint()
    await applyStateOverride(vm, overrides.state)
  }
  const block = overrides.block ? withBlockOverride(ctx, baseBlock, overrides.block) : baseBlock
  // Checked whenever a message starts, by the VM's one `beforeMessage` listener: cheap (once per
  // CALL/CREATE, not per opcode). A single frame that loops without calling is bounded by the gas cap.
  cv.deadline = Date.now() + ctx.limits.evmTimeoutMs
  const caller = req.from ? new Address(hexToBytes(req.from)) : createZeroAddress()
  const to = req.to ? new Address(hexToBytes(req.to)) : undefined
  const data = hexToBytes(req.input ?? req.data ?? '0x')
  const value = req.value ?? 0n
  const gasPrice = req.gasPrice ?? req.maxFeePerGas ?? 0n
  const { intrinsic, minimumGas } = callVms(ctx).gasOf(shapeKey(req, to, data, chain.common.hardfork()), () => {
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
    return { intrinsic: shape.getIntrinsicGas(), minimumGas: shape.getMinimumGasLimit() }
  })
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
  let reported: Map<string, Set<string>> | undefined
  return {
    vm,
    intrinsicGas: intrinsic,
    minimumGas,
    accessList: () => accessListOf(reported, caller, to),
    async run(gasLimit: bigint): Promise<EVMResult> {
      if (Date.now() > cv.deadline) throw timeoutError(ctx)
      const { journal } = vm.evm
      if (overrides.reportAccessList) journal.startReportingAccessList()
      await journal.checkpoint()
      let res: EVMResult
      try {
        res = await vm.evm.runCall({
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
      } catch (err) {
        // Thrown mid-call (the time limit): inner checkpoints are left open. Never reuse this VM.
        cv.reusable = false
        throw err
      }
      reported = journal.accessList
      await journal.revert()
      // Not journal.cleanup(): it would delete touched empty accounts outside any checkpoint.
      journal.cleanJournal()
      delete journal.accessList
      delete journal.preimages
      return res
    },
  }
}

/**
 * What the intrinsic gas of a call depends on: creation or not, the ruleset, the input's length
 * and how many of its bytes are zero (calldata is priced per zero and non-zero byte, init code per
 * word, the EIP-7623 floor per token: all functions of these two counts), and the access list. Calls
 * with different arguments of the same shape (`balanceOf(a)`, `balanceOf(b)`) share one entry.
 */
export function shapeKey(req: CallRequest, to: Address | undefined, data: Uint8Array, hardfork: string): string {
  let zeros = 0
  for (let i = 0; i < data.length; i++) if (data[i] === 0) zeros++
  const list = req.accessList ? JSON.stringify(req.accessList) : ''
  return `${to ? 'call' : 'create'} ${hardfork} ${data.length} ${zeros} ${list}`
}

/** The gas limit a call runs with: the request's, capped by the RPC gas cap. */
export function callGas(ctx: RpcContext, req: CallRequest): bigint {
  const cap = ctx.limits.gasCap
  return req.gas !== undefined && req.gas < cap ? req.gas : cap
}

/** Throws the JSON-RPC error for a failed execution: code 3 with revert data, else -32000. */
export function throwIfCallFailed({ error, output }: CallOutcome): void {
  if (error === undefined) return
  if (error === 'revert') throw revertError(hexToBytes(output))
  throw new CairnError(RpcErrorCode.EXECUTION_FAILED, error, { fault: 'caller' })
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
export async function estimateGas(
  ctx: RpcContext,
  req: CallRequest,
  block: Block,
  overrides: CallOverrides = {},
): Promise<bigint> {
  return withCall(ctx, req, block, overrides, (call) => searchGas(ctx, req, block, call))
}

async function searchGas(ctx: RpcContext, req: CallRequest, block: Block, call: PreparedCall): Promise<bigint> {
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

/** Applies geth's state override set: balance, nonce, code, full storage (`state`) or some slots (`stateDiff`). */
async function applyStateOverride(vm: VM, override: StateOverride): Promise<void> {
  const sm = vm.stateManager
  for (const [addr, o] of Object.entries(override)) {
    const a = new Address(hexToBytes(addr))
    const fields: { balance?: bigint; nonce?: bigint } = {}
    if (o.balance !== undefined) fields.balance = o.balance
    if (o.nonce !== undefined) fields.nonce = o.nonce
    await sm.modifyAccountFields(a, fields)
    if (o.code !== undefined) await sm.putCode(a, hexToBytes(o.code))
    if (o.state) await sm.clearStorage(a)
    for (const [slot, value] of Object.entries(o.state ?? o.stateDiff ?? {})) {
      await sm.putStorage(a, setLengthLeft(hexToBytes(slot), 32), setLengthLeft(hexToBytes(value), 32))
    }
  }
}

/** The block a call sees with geth's block overrides applied (number, time, gas limit, coinbase, base fee, randao). */
function withBlockOverride(ctx: RpcContext, block: Block, o: BlockOverride): Block {
  const h = block.header
  return createBlock(
    {
      header: {
        ...(h.toJSON() as Record<string, unknown>),
        ...(o.number !== undefined ? { number: o.number } : {}),
        ...(o.time !== undefined ? { timestamp: o.time } : {}),
        ...(o.gasLimit !== undefined ? { gasLimit: o.gasLimit } : {}),
        ...(o.feeRecipient !== undefined || o.coinbase !== undefined
          ? { coinbase: (o.feeRecipient ?? o.coinbase) as `0x${string}` }
          : {}),
        ...(o.baseFeePerGas !== undefined || o.baseFee !== undefined
          ? { baseFeePerGas: (o.baseFeePerGas ?? o.baseFee) as bigint }
          : {}),
        ...(o.prevRandao !== undefined || o.random !== undefined
          ? { mixHash: (o.prevRandao ?? o.random) as `0x${string}` }
          : {}),
      } as HeaderData,
    },
    { common: ctx.chain.common, skipConsensusFormatValidation: true },
  )
}

function accessListOf(
  seen: Map<string, Set<string>> = new Map(),
  caller: Address,
  to: Address | undefined,
): AccessListEntry[] {
  const skip = new Set([caller.toString().slice(2), to?.toString().slice(2)])
  const out: AccessListEntry[] = []
  for (const [addr, slots] of seen) {
    if (skip.has(addr) || isPrecompile(addr)) continue
    out.push({ address: `0x${addr}`, storageKeys: [...slots].map((s) => `0x${s.padStart(64, '0')}` as const) })
  }
  return out
}

function isPrecompile(addr: string): boolean {
  return /^0{36}[0-9a-f]{4}$/.test(addr) && Number.parseInt(addr.slice(36), 16) <= 0x11
}
