import { runViewCall } from '@cairn/chain'
import { keccak256 } from '@cairn/crypto'
import { bytesToHex, hexToBytes } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { Address, createZeroAddress } from '@ethereumjs/util'
import type { RpcContext } from '../context.ts'
import { budgetExhausted, callGasOf, type GasBudget } from '../exec.ts'
import type { RpcMetrics } from '../metrics.ts'
import type { CallRequest } from '../schemas.ts'
import type { CallOutcome } from './call-cache.ts'

/**
 * An `eth_call` answered by the view interpreter (`runViewCall` in @cairn/chain) instead of the
 * EVM, or undefined when it must go to the EVM: a call with overrides, value, a gas price, an
 * access list or authorizations, rules before Cancun, or one the interpreter does not run to the
 * end (a CALL or CREATE, a write, an exceptional halt: see `runViewCall`). What it
 * answers is what the EVM answers (the differential tests in test/view-calls*); it reads the
 * block's shared state view directly, without a VM, a journal or a checkpoint.
 */
export async function viewCall(
  ctx: RpcContext,
  req: CallRequest,
  block: Block,
  gasLimit: bigint,
  budget: GasBudget | undefined,
): Promise<CallOutcome | undefined> {
  if (!ctx.limits.viewInterpreter || !plain(req)) return undefined
  const { common } = block
  if (!common.isActivatedEIP(3855) || !common.isActivatedEIP(5656) || !common.isActivatedEIP(3198)) return undefined
  const to = new Address(hexToBytes(req.to as `0x${string}`))
  const data = hexToBytes(req.input ?? req.data ?? '0x')
  const { intrinsic, minimumGas } = callGasOf(ctx, req, to, data, common)
  if (gasLimit < minimumGas) return undefined
  if (budget && budget.left <= 0n) throw budgetExhausted(budget)
  // Charged what it used once it ends, as an EVM run is; nothing when the call goes to the EVM,
  // which charges its own run.
  const h = block.header
  const res = await runViewCall({
    state: ctx.chain.viewState(h),
    address: to,
    caller: req.from ? new Address(hexToBytes(req.from)) : createZeroAddress(),
    data,
    gas: gasLimit - intrinsic,
    block: {
      number: h.number,
      timestamp: h.timestamp,
      coinbase: h.coinbase.bytes,
      gasLimit: h.gasLimit,
      chainId: common.chainId(),
    },
    keccak256,
  })
  if (ctx.metrics) countersOf(ctx.metrics)[res.kind === 'unsupported' ? 'evm' : 'interpreter'].inc()
  if (budget && res.kind !== 'unsupported') budget.left -= res.gasUsed
  if (res.kind === 'unsupported') return undefined
  return { output: bytesToHex(res.output), error: res.kind === 'revert' ? 'revert' : undefined }
}

const counters = new WeakMap<RpcMetrics, Record<'interpreter' | 'evm', { inc(): void }>>()

/** The counter's children, bound once (a labelled inc() hashes its labels every time). */
function countersOf(metrics: RpcMetrics): Record<'interpreter' | 'evm', { inc(): void }> {
  let c = counters.get(metrics)
  if (!c) {
    c = { interpreter: metrics.viewCalls.labels('interpreter'), evm: metrics.viewCalls.labels('evm') }
    counters.set(metrics, c)
  }
  return c
}

/** A call to a contract that sends no value, pays no gas price and lists no access or authorization. */
function plain(req: CallRequest): boolean {
  return (
    typeof req.to === 'string' &&
    !req.value &&
    !req.gasPrice &&
    !req.maxFeePerGas &&
    !req.maxPriorityFeePerGas &&
    req.accessList === undefined &&
    req.authorizationList === undefined
  )
}
