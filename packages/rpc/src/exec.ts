import { bytesToHex, CairnError, hexToBytes } from '@cairn/utils'
import { type Block, createBlock, type HeaderData } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import type { EVMResult } from '@ethereumjs/evm'
import { createTx, getCalldataFloorGas } from '@ethereumjs/tx'
import { Address, bytesToUnprefixedHex, createZeroAddress } from '@ethereumjs/util'
import type { VM } from '@ethereumjs/vm'
import { applyAuthorizations } from './authorizations.ts'
import { type CallGas, type CallVm, callVms, timeoutError } from './call-vms.ts'
import type { RpcContext } from './context.ts'
import { RpcErrorCode } from './errors.ts'
import type { CallOutcome } from './fast/call-cache.ts'
import { nextBlock } from './next-block.ts'
import type { BlockOverride, CallRequest, StateOverride } from './schemas.ts'
import { applyAccountOverride } from './state-override.ts'

type AccessListEntry = { address: `0x${string}`; storageKeys: `0x${string}`[] }

/** A call prepared against one block's state: run it as often as needed (gas estimation). */
export interface PreparedCall {
  /** The private VM the call runs in (tracers attach to its EVM events). */
  vm: VM
  /** The block the call runs in: the state block itself, or its child (see {@link CallOverrides.next}). */
  block: Block
  /** The intrinsic gas of a transaction with this input. */
  intrinsicGas: bigint
  /** The least gas a transaction with this input must provide (intrinsic, or the EIP-7623 floor). */
  minimumGas: bigint
  /** The EIP-7623 calldata floor (0 before Prague). */
  floorGas: bigint
  /** The price per gas the sender offers at most: maxFeePerGas, else gasPrice, else 0. */
  feeCap: bigint
  /** The price the call runs with (GASPRICE): gasPrice, or min(maxFee, baseFee + tip) as a mined transaction pays. */
  gasPrice: bigint
  /** The caller's balance (read once). */
  balance(): Promise<bigint>
  /** Runs the call as a transaction with this gas limit would run; below {@link minimumGas} it fails with 'out of gas'. */
  run(gasLimit: bigint): Promise<EVMResult>
  /** The access list of the last run (with `reportAccessList`), without sender, recipient and precompiles. */
  accessList(): AccessListEntry[]
  /** Every storage slot the last run touched (with `reportAccessList`), by address: sender and recipient too. */
  slotsTouched(): AccessListEntry[]
}

export { timeoutError }

/** What eth_call may override: state per account, and block fields (as geth). */
/** Gas left to execute, shared by the entries of one batch and charged by every run. */
export interface GasBudget {
  left: bigint
  readonly limit: bigint
}

export interface CallOverrides {
  state?: StateOverride
  block?: BlockOverride
  /** Report the accounts and slots the call touches (eth_createAccessList). */
  reportAccessList?: boolean
  /**
   * Run in the block a transaction sent now would be in: the child of the state's block, as the
   * consensus engine will seal it (number + 1, its next timestamp, base fee, coinbase, prevRandao,
   * gas limit, blob gas: see next-block.ts). Gas estimates and `pending` calls.
   */
  next?: boolean
  /** The gas a batch may still execute (shared by its entries; see the dispatcher). */
  gasBudget?: GasBudget
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
  const next = overrides.next ? nextBlock(ctx, baseBlock) : undefined
  const cv = await callVms(ctx).create(baseBlock, next?.common)
  const call = await prepareOn(ctx, cv, req, baseBlock, overrides, false)
  await checkFunds(call, req, req.gas ?? ctx.limits.gasCap)
  return call
}

/**
 * Runs `fn` with `req` prepared against the state after `block`. Without state or block overrides
 * the call borrows a VM kept for that block (see {@link CallVmPool}): each run is a state
 * checkpoint reverted at its end, so nothing one call writes is seen by the next. With overrides
 * the call gets a private VM, as {@link prepareCall}. The caller's funds are checked as geth checks
 * an eth_call's (see {@link checkFunds}).
 */
export function withCall<T>(
  ctx: RpcContext,
  req: CallRequest,
  block: Block,
  overrides: CallOverrides,
  fn: (call: PreparedCall) => Promise<T>,
): Promise<T> {
  return borrow(ctx, req, block, overrides, async (call) => {
    await checkFunds(call, req, req.gas ?? ctx.limits.gasCap)
    return fn(call)
  })
}

/** {@link withCall} without the funds check (the estimate caps its gas by the funds instead). */
async function borrow<T>(
  ctx: RpcContext,
  req: CallRequest,
  block: Block,
  overrides: CallOverrides,
  fn: (call: PreparedCall) => Promise<T>,
): Promise<T> {
  const pool = callVms(ctx)
  // The next block may start a fork: then its rules need a VM of their own (not pooled).
  const next = overrides.next ? nextBlock(ctx, block) : undefined
  const newFork = next !== undefined && next.common.hardfork() !== block.common.hardfork()
  // A chain in reference mode gets a fresh VM per call, without the read-only run's shortcuts.
  const own = Boolean(overrides.state || overrides.block || newFork || ctx.chain.reference)
  const cv = own ? await pool.create(block, newFork ? next.common : undefined) : await pool.acquire(block)
  // Pooled calls (no overrides) take the shortcuts of a read-only run; the access-list report
  // keeps the full path (it lists what the run touched).
  const shortcuts = !own && !overrides.reportAccessList
  try {
    return await fn(await prepareOn(ctx, cv, req, block, overrides, shortcuts))
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
  shortcuts: boolean,
): Promise<PreparedCall> {
  const { vm } = cv
  if (overrides.state) {
    // Kept inside a checkpoint that is never closed: nothing is flushed into the view's own trie,
    // which must stay at the block's root for its reads through the shared view to be right.
    cv.reusable = false
    await vm.stateManager.checkpoint()
    await applyStateOverride(vm, overrides.state)
  }
  const context = overrides.next ? nextBlock(ctx, baseBlock) : baseBlock
  const block = overrides.block ? withBlockOverride(context, overrides.block) : context
  // Checked whenever a message starts, by the VM's one `beforeMessage` listener: cheap (once per
  // CALL/CREATE, not per opcode). A single frame that loops without calling is bounded by the gas cap.
  cv.deadline = Date.now() + ctx.limits.evmTimeoutMs
  const caller = req.from ? new Address(hexToBytes(req.from)) : createZeroAddress()
  const to = req.to ? new Address(hexToBytes(req.to)) : undefined
  const data = hexToBytes(req.input ?? req.data ?? '0x')
  const value = req.value ?? 0n
  const { feeCap, gasPrice } = pricesOf(req, block.header.baseFeePerGas)
  // As geth: a call that pays nothing sees a base fee of 0 (BASEFEE never exceeds GASPRICE).
  const runBlock = gasPrice === 0n ? withoutBaseFee(block) : block
  const auths = req.authorizationList ?? []
  // The rules of the block the call runs in (the next block's fork for estimates and `pending`).
  const { common } = block
  const { intrinsic, minimumGas, floor } = callGasOf(ctx, req, to, data, common)
  let balance: bigint | undefined
  const balanceOf = async () => {
    balance ??= (await vm.stateManager.getAccount(caller))?.balance ?? 0n
    return balance
  }
  // What a transaction warms before its first opcode (EIP-2929, EIP-2930, EIP-3651), as
  // @ethereumjs/vm's runTx: the precompiles, the sender, the recipient, the coinbase, the access list.
  const warm: string[] = [...(vm.evm as unknown as { precompiles: Map<string, unknown> }).precompiles.keys()]
  warm.push(bytesToUnprefixedHex(caller.bytes))
  if (to) warm.push(bytesToUnprefixedHex(to.bytes))
  if (vm.common.isActivatedEIP(3651)) warm.push(bytesToUnprefixedHex(block.header.coinbase.bytes))
  const listed = (req.accessList ?? []).map((e) => ({
    address: e.address.slice(2),
    slots: e.storageKeys.map((k) => k.slice(2)),
  }))
  const eip2929 = vm.common.isActivatedEIP(2929)
  let reported: Map<string, Set<string>> | undefined
  return {
    vm,
    block,
    intrinsicGas: intrinsic,
    minimumGas,
    floorGas: floor,
    feeCap,
    gasPrice,
    balance: balanceOf,
    accessList: () => accessListOf(reported, caller, to),
    slotsTouched: () =>
      [...(reported ?? new Map<string, Set<string>>())].map(([addr, slots]) => ({
        address: `0x${addr}`,
        storageKeys: [...slots].map((s) => `0x${s.padStart(64, '0')}` as const),
      })),
    async run(gasLimit: bigint): Promise<EVMResult> {
      if (Date.now() > cv.deadline) throw timeoutError(ctx)
      const budget = overrides.gasBudget
      if (budget && budget.left <= 0n) throw budgetExhausted(budget)
      // A transaction below its intrinsic gas (or the calldata floor) is invalid: it fails.
      if (gasLimit < minimumGas) return outOfGas(gasLimit)
      // Charged what the run used once it ends (never its allowance: a batch of view calls each
      // allowed the block's gas would exhaust it after two). Entries of a batch in flight together
      // may take it past its budget by their own use, each bounded by the gas cap.
      const { journal } = vm.evm
      if (overrides.reportAccessList) journal.startReportingAccessList()
      await journal.checkpoint()
      if (eip2929) {
        for (const a of warm) journal.addAlwaysWarmAddress(a)
      }
      for (const e of listed) {
        journal.addAlwaysWarmAddress(e.address, true)
        for (const slot of e.slots) journal.addAlwaysWarmSlot(e.address, slot, true)
      }
      let res: EVMResult
      try {
        const authRefund = auths.length > 0 ? await applyAuthorizations(vm, caller, auths) : 0n
        const skipNonce = shortcuts && to !== undefined && auths.length === 0 && (await nonceUnseen(vm, caller))
        ;(vm.evm as ReadOnlyFlags).cairnUntouchedZeroValue = shortcuts
        res = await vm.evm.runCall({
          block: runBlock,
          caller,
          origin: caller,
          ...(to ? { to } : {}),
          data,
          value,
          gasPrice,
          gasLimit: gasLimit - intrinsic,
          skipBalance: gasPrice === 0n,
          ...(skipNonce ? { skipNonceIncrement: true } : {}),
        })
        // A failed call's state changes, and their refunds, are undone; the authorizations' stay.
        res.execResult.gasRefund = (res.execResult.exceptionError ? 0n : (res.execResult.gasRefund ?? 0n)) + authRefund
      } catch (err) {
        // Thrown mid-call (the time limit): inner checkpoints are left open. Never reuse this VM.
        cv.reusable = false
        throw err
      }
      if (budget) budget.left -= res.execResult.executionGasUsed
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

/** The flag of this repository's @ethereumjs/evm patch (patches/): skip the zero-value transfer of a read-only run's top frame. */
interface ReadOnlyFlags {
  cairnUntouchedZeroValue?: boolean
}

/**
 * Whether bumping the caller's nonce before a call (as a transaction does) can change nothing the
 * call computes: no opcode reads a nonce; only code running at the caller's address could use it
 * (CREATE), and only emptiness is seen of an account (EXTCODEHASH, the new-account charge of a
 * CALL with value, SELFDESTRUCT's beneficiary). So: a caller without code (no contract, no EIP-7702
 * delegation) that is already non-empty. The zero address of a call without `from` is often empty:
 * bumped as before.
 */
async function nonceUnseen(vm: VM, caller: Address): Promise<boolean> {
  const account = await vm.stateManager.getAccount(caller)
  return account !== undefined && !account.isEmpty() && !account.isContract()
}

/** An authorization standing in for each of a call's when only their count matters (intrinsic gas). */
const PLACEHOLDER_AUTH = {
  chainId: '0x0',
  address: '0x0000000000000000000000000000000000000000',
  nonce: '0x0',
  yParity: '0x0',
  r: '0x1',
  s: '0x1',
} as const

/**
 * The intrinsic gas of a transaction with the call's input under `common`'s rules, the least gas
 * limit it needs (intrinsic, or the EIP-7623 floor) and that floor: computed once per call shape.
 */
export function callGasOf(
  ctx: RpcContext,
  req: CallRequest,
  to: Address | undefined,
  data: Uint8Array,
  common: Common,
): CallGas {
  const auths = req.authorizationList ?? []
  return callVms(ctx).gasOf(shapeKey(req, to, data, common.hardfork()), () => {
    const shape = createTx(
      {
        ...(to ? { to } : {}),
        data,
        value: req.value ?? 0n,
        gasLimit: 0n,
        ...(req.accessList ? { accessList: req.accessList, type: 1 } : {}),
        // Only the count matters to the intrinsic gas (25,000 each).
        ...(auths.length > 0 ? { type: 4, authorizationList: auths.map(() => PLACEHOLDER_AUTH) } : {}),
      },
      { common },
    )
    return {
      intrinsic: shape.getIntrinsicGas(),
      minimumGas: shape.getMinimumGasLimit(),
      floor: getCalldataFloorGas(shape),
    }
  })
}

/** The error of a batch entry that starts once the batch's gas budget is spent. */
export function budgetExhausted(budget: GasBudget): CairnError {
  return new CairnError(RpcErrorCode.LIMIT, `batch gas budget exhausted (${budget.limit} gas per batch)`, {
    fault: 'caller',
    hint: 'send fewer or cheaper calls per batch',
  })
}

/** The result of a transaction whose gas limit is below what it must pay before executing. */
function outOfGas(gasLimit: bigint): EVMResult {
  return {
    execResult: {
      returnValue: new Uint8Array(),
      executionGasUsed: gasLimit,
      exceptionError: { error: 'out of gas', errorType: 'EvmError' },
    },
  } as EVMResult
}

/**
 * The prices of a call as geth derives them (TransactionArgs.ToMessage): a legacy gasPrice is
 * both cap and price; with EIP-1559 fields the call pays min(maxFee, baseFee + tip), as a mined
 * transaction does (GASPRICE sees that), and nothing when both are zero or absent.
 */
export function pricesOf(req: CallRequest, baseFee: bigint | undefined): { feeCap: bigint; gasPrice: bigint } {
  if (req.gasPrice !== undefined) return { feeCap: req.gasPrice, gasPrice: req.gasPrice }
  const feeCap = req.maxFeePerGas ?? 0n
  const tip = req.maxPriorityFeePerGas ?? 0n
  if (feeCap === 0n && tip === 0n) return { feeCap, gasPrice: 0n }
  if (tip > feeCap) {
    throw new CairnError(
      RpcErrorCode.EXECUTION_FAILED,
      `max priority fee per gas higher than max fee per gas: address ${req.from ?? ZERO_ADDRESS}, maxPriorityFeePerGas: ${tip}, maxFeePerGas: ${feeCap}`,
      { fault: 'caller' },
    )
  }
  const price = baseFee === undefined ? tip : baseFee + tip
  return { feeCap, gasPrice: price < feeCap ? price : feeCap }
}

const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000'

/**
 * As geth checks a call's funds: the value must be affordable, and with a price, gas × cap + value
 * (`gas`: the call's gas limit).
 */
export async function checkFunds(call: PreparedCall, req: CallRequest, gas: bigint): Promise<void> {
  const value = req.value ?? 0n
  if (call.feeCap === 0n && value === 0n) return
  const balance = await call.balance()
  if (balance < value) {
    throw new CairnError(RpcErrorCode.EXECUTION_FAILED, 'insufficient funds for transfer', { fault: 'caller' })
  }
  if (call.feeCap > 0n && balance < gas * call.feeCap + value) {
    throw new CairnError(RpcErrorCode.EXECUTION_FAILED, 'insufficient funds for gas * price + value', {
      fault: 'caller',
    })
  }
}

/**
 * The gas a transaction whose run came to `res` is charged, as its receipt says: intrinsic plus
 * execution, less the refund (capped at a fifth of that, EIP-3529), at least the EIP-7623 floor;
 * and the refund that was subtracted (geth's `RefundedGas`).
 */
export function gasUsedOf(call: PreparedCall, res: EVMResult): { used: bigint; refunded: bigint } {
  const spent = call.intrinsicGas + res.execResult.executionGasUsed
  const cap = spent / call.vm.common.param('maxRefundQuotient')
  // The run's refund counter (see `run`: none from a failed call, plus the authorities' refund).
  const counter = res.execResult.gasRefund ?? 0n
  const refunded = counter < cap ? counter : cap
  const used = spent - refunded
  return { used: used < call.floorGas ? call.floorGas : used, refunded }
}

/**
 * What the intrinsic gas of a call depends on: creation or not, the ruleset, the input's length
 * and how many of its bytes are zero (calldata is priced per zero and non-zero byte, init code per
 * word, the EIP-7623 floor per token: all functions of these two counts), the number of EIP-7702
 * authorizations, and the access list. Calls
 * with different arguments of the same shape (`balanceOf(a)`, `balanceOf(b)`) share one entry.
 */
export function shapeKey(req: CallRequest, to: Address | undefined, data: Uint8Array, hardfork: string): string {
  let zeros = 0
  for (let i = 0; i < data.length; i++) if (data[i] === 0) zeros++
  const list = req.accessList ? JSON.stringify(req.accessList) : ''
  const auths = req.authorizationList?.length ?? 0
  return `${to ? 'call' : 'create'} ${hardfork} ${data.length} ${zeros} ${auths} ${list}`
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

/** geth's `estimateGasErrorRatio`: the search stops once the bounds are within 1.5% of each other. */
const ESTIMATE_ERROR_RATIO = 0.015
/** The gas stipend of a CALL with value: the optimistic first guess leaves room for one. */
const CALL_STIPEND = 2300n
const TX_GAS = 21_000n

/**
 * The least gas limit with which the call succeeds in the block after `block` (the one it will be
 * mined in: see {@link CallOverrides.next}), by geth's search (gasestimator.Estimate): the
 * highest allowance first (the request's gas, else the block's gas limit, capped by EIP-7825, by
 * what the sender's balance pays at its fee cap, and by the RPC gas cap); a plain transfer tries
 * 21,000; then an optimistic guess (gas used + refund + stipend, × 64/63) and a binary search
 * skewed low, stopping within 1.5%. The answer is always a limit that succeeded.
 */
export async function estimateGas(
  ctx: RpcContext,
  req: CallRequest,
  block: Block,
  overrides: CallOverrides = {},
): Promise<bigint> {
  return borrow(ctx, req, block, { ...overrides, next: true }, (call) => searchGas(ctx, req, call))
}

async function searchGas(ctx: RpcContext, req: CallRequest, call: PreparedCall): Promise<bigint> {
  let hi = req.gas !== undefined && req.gas >= TX_GAS ? req.gas : call.block.header.gasLimit
  const { common } = call.vm
  if (common.isActivatedEIP(7825)) {
    const max = common.param('maxTransactionGasLimit')
    if (hi > max) hi = max
  }
  const value = req.value ?? 0n
  if (call.feeCap > 0n) {
    const balance = await call.balance()
    if (value >= balance) {
      throw new CairnError(RpcErrorCode.EXECUTION_FAILED, 'insufficient funds for transfer', { fault: 'caller' })
    }
    const allowance = (balance - value) / call.feeCap
    if (hi > allowance) hi = allowance
  } else if (value > 0n && (await call.balance()) < value) {
    throw new CairnError(RpcErrorCode.EXECUTION_FAILED, 'insufficient funds for transfer', { fault: 'caller' })
  }
  if (hi > ctx.limits.gasCap) hi = ctx.limits.gasCap
  const to = req.to ? new Address(hexToBytes(req.to)) : undefined
  const data = req.input ?? req.data ?? '0x'
  if (data === '0x' && to && (await call.vm.stateManager.getCode(to)).length === 0) {
    const plain = await call.run(TX_GAS)
    if (!plain.execResult.exceptionError) return TX_GAS
  }
  const first = await call.run(hi)
  const failure = first.execResult.exceptionError
  if (failure) {
    if (failure.error === 'revert') throw revertError(first.execResult.returnValue)
    if (failure.error !== 'out of gas') {
      throw new CairnError(RpcErrorCode.EXECUTION_FAILED, failure.error, { fault: 'caller' })
    }
    throw new CairnError(RpcErrorCode.EXECUTION_FAILED, `gas required exceeds allowance (${hi})`, { fault: 'caller' })
  }
  const { used, refunded } = gasUsedOf(call, first)
  let lo = used - 1n
  // Most calls succeed with what they used, their refund and a call stipend, plus the 63/64 reserve.
  const optimistic = ((used + refunded + CALL_STIPEND) * 64n) / 63n
  if (optimistic < hi) {
    if ((await call.run(optimistic)).execResult.exceptionError) lo = optimistic
    else hi = optimistic
  }
  while (lo + 1n < hi) {
    if (Number(hi - lo) / Number(hi) < ESTIMATE_ERROR_RATIO) break
    let mid = (hi + lo) / 2n
    // Most transactions need little more than they use: bisect nearer the low side.
    if (mid > lo * 2n) mid = lo * 2n
    if ((await call.run(mid)).execResult.exceptionError) lo = mid
    else hi = mid
  }
  return hi
}

/** Applies geth's state override set, account by account (see {@link applyAccountOverride}). */
async function applyStateOverride(vm: VM, override: StateOverride): Promise<void> {
  for (const [addr, o] of Object.entries(override)) await applyAccountOverride(vm.stateManager, addr, o)
}

const zeroBaseFee = new WeakMap<Block, Block>()

/** `block` with a base fee of 0 (itself when it has none or 0), made once per block. */
function withoutBaseFee(block: Block): Block {
  if (!block.header.baseFeePerGas) return block
  let zero = zeroBaseFee.get(block)
  if (!zero) {
    zero = createBlock(
      { header: { ...(block.header.toJSON() as Record<string, unknown>), baseFeePerGas: 0n } as HeaderData },
      { common: block.common, skipConsensusFormatValidation: true },
    )
    zeroBaseFee.set(block, zero)
  }
  return zero
}

/** The block a call sees with geth's block overrides applied (number, time, gas limit, coinbase, base fee, randao). */
function withBlockOverride(block: Block, o: BlockOverride): Block {
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
    { common: block.common, skipConsensusFormatValidation: true },
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
