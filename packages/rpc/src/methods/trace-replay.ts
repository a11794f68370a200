import { replayBlock } from '@cairn/chain'
import { bytesToHex, hexToBytes, toQuantity } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import type { InterpreterStep } from '@ethereumjs/evm'
import { Address, setLengthLeft } from '@ethereumjs/util'
import type { VM } from '@ethereumjs/vm'
import { z } from 'zod'
import type { RpcContext } from '../context.ts'
import { invalidParams } from '../errors.ts'
import { callGas, prepareCall, timeoutError } from '../exec.ts'
import { invokeMethod, type MethodDef, method } from '../method.ts'
import { findBlock, resolveBlock } from '../resolve.ts'
import { blockRef, blockRefOrHash, callRequest, data, hash32, numberOrHex } from '../schemas.ts'
import { type SimCall, simCall } from '../simulate/schema.ts'
import { simulate } from '../simulate/simulator.ts'
import { walkFrames } from '../trace/call-frames.ts'
import { CallTracer } from '../trace/call-tracer.ts'
import { flatTraces } from '../trace/flat-traces.ts'
import { attachTracer, type Tracer } from '../trace/tracer.ts'
import { decodeRawTx } from './eth-send.ts'
import { traceTransaction } from './trace-parity.ts'

/**
 * Parity's replays: `trace_replayTransaction`, `trace_replayBlockTransactions` (as Anvil 1.7
 * answers it) and `trace_call`, each `{output, stateDiff, trace, vmTrace}` with the outputs the
 * caller's trace types ask for. `trace` is the flat call trace (trace_transaction's entries without
 * their block fields); `stateDiff` every account whose balance, nonce, code or written storage
 * changed, each field `"="`, `{"+": new}`, `{"-": old}` or `{"*": {from, to}}` (the pre-state read
 * from a second replay kept one transaction behind; the accounts are those of the call frames, the
 * sender and the coinbase; the slots those SSTORE wrote). `vmTrace` is not supported.
 */

const traceTypes = z.array(z.enum(['trace', 'stateDiff', 'vmTrace']))
type TraceTypes = z.infer<typeof traceTypes>

function checkTypes(types: TraceTypes): void {
  if (types.includes('vmTrace')) {
    throw invalidParams(
      'vmTrace is not supported: ask for "trace" and/or "stateDiff" (debug_traceTransaction gives the opcodes)',
    )
  }
}

/** The frames, sender and coinbase a transaction touched, and the slots it wrote per address. */
class Touched implements Tracer {
  readonly calls = new CallTracer({})
  readonly slots = new Map<string, Set<bigint>>()
  step(e: InterpreterStep): void {
    this.calls.step?.(e)
    if (e.opcode.name !== 'SSTORE') return
    const a = e.address.toString().toLowerCase()
    let set = this.slots.get(a)
    if (!set) {
      set = new Set()
      this.slots.set(a, set)
    }
    set.add(e.stack[e.stack.length - 1] ?? 0n)
  }
  beforeMessage(m: Parameters<NonNullable<Tracer['beforeMessage']>>[0]): void {
    this.calls.beforeMessage?.(m)
  }
  afterMessage(r: Parameters<NonNullable<Tracer['afterMessage']>>[0]): void {
    this.calls.afterMessage?.(r)
  }
}

interface AccountView {
  balance: bigint
  nonce: bigint
  code: string
  storage: Map<bigint, bigint>
}

async function readAccounts(vm: VM, touched: Map<string, Set<bigint>>): Promise<Map<string, AccountView | undefined>> {
  const out = new Map<string, AccountView | undefined>()
  for (const [addr, slots] of touched) {
    const a = new Address(hexToBytes(addr as `0x${string}`))
    const acc = await vm.stateManager.getAccount(a)
    if (!acc) {
      out.set(addr, undefined)
      continue
    }
    const storage = new Map<bigint, bigint>()
    for (const s of slots) {
      const v = await vm.stateManager.getStorage(a, setLengthLeft(hexToBytes(toQuantity32(s)), 32))
      storage.set(s, v.length === 0 ? 0n : BigInt(bytesToHex(v)))
    }
    out.set(addr, {
      balance: acc.balance,
      nonce: acc.nonce,
      code: bytesToHex(await vm.stateManager.getCode(a)),
      storage,
    })
  }
  return out
}

const toQuantity32 = (v: bigint) => `0x${v.toString(16).padStart(64, '0')}` as const

function diff<T>(pre: T | undefined, post: T | undefined, fmt: (v: T) => string): unknown {
  if (pre === undefined && post === undefined) return '='
  if (pre === undefined) return { '+': fmt(post as T) }
  if (post === undefined) return { '-': fmt(pre) }
  const [a, b] = [fmt(pre), fmt(post)]
  return a === b ? '=' : { '*': { from: a, to: b } }
}

function stateDiffOf(
  pre: Map<string, AccountView | undefined>,
  post: Map<string, AccountView | undefined>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const addr of [...post.keys()].sort()) {
    const a = pre.get(addr)
    const b = post.get(addr)
    if (!a && !b) continue
    const storage: Record<string, unknown> = {}
    const slots = new Set([...(a?.storage.keys() ?? []), ...(b?.storage.keys() ?? [])])
    for (const s of [...slots].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))) {
      const from = a ? (a.storage.get(s) ?? 0n) : undefined
      const to = b ? (b.storage.get(s) ?? 0n) : undefined
      const d = diff(from, to, toQuantity32)
      if (d !== '=' && !(from === undefined && to === 0n) && !(to === undefined && from === 0n)) {
        storage[toQuantity32(s)] = d
      }
    }
    const entry = {
      balance: diff(a?.balance, b?.balance, toQuantity),
      code: diff(a?.code, b?.code, (c) => c),
      nonce: diff(a?.nonce, b?.nonce, toQuantity),
      storage,
    }
    if (entry.balance === '=' && entry.code === '=' && entry.nonce === '=' && Object.keys(storage).length === 0)
      continue
    out[addr] = entry
  }
  return out
}

/** The accounts a traced transaction touched: its frames, the sender, the coinbase; with their written slots. */
function touchedOf(t: Touched, sender: string, coinbase: string): Map<string, Set<bigint>> {
  const out = new Map<string, Set<bigint>>()
  const add = (a: string | undefined) => {
    if (a && !out.has(a.toLowerCase())) out.set(a.toLowerCase(), new Set())
  }
  add(sender)
  add(coinbase)
  const root = t.calls.result(0n, 0n)
  if (root) {
    for (const { frame } of walkFrames(root)) {
      add(frame.from)
      add(frame.to)
    }
  }
  for (const [a, slots] of t.slots) {
    add(a)
    for (const s of slots) out.get(a)?.add(s)
  }
  return out
}

const NO_PLACE = { blockHash: '', blockNumber: 0, transactionHash: '', transactionPosition: 0 }

function traceEntries(t: Touched, gasLimit: bigint, gasUsed: bigint): Record<string, unknown>[] {
  const root = t.calls.result(gasLimit, gasUsed)
  if (!root) return []
  return flatTraces(root, NO_PLACE).map((e) => {
    const { action, result, error, subtraces, traceAddress, type } = e
    return { type, action, ...(error !== undefined ? { error } : { result }), subtraces, traceAddress }
  })
}

/**
 * Replays `block`'s transactions up to `last` (inclusive), answering for those `want` accepts; a
 * second replay one transaction behind gives the pre-state when a stateDiff is asked.
 */
async function replayBlockTraced(
  ctx: RpcContext,
  block: Block,
  types: TraceTypes,
  want: (i: number) => boolean,
  last: number,
): Promise<Record<string, unknown>[]> {
  checkTypes(types)
  if (block.header.number === 0n) return []
  const withDiff = types.includes('stateDiff')
  const replay = await replayBlock(ctx.chain, block)
  const behind = withDiff ? await replayBlock(ctx.chain, block) : undefined
  let current: Touched | undefined
  const deadline = { at: 0 }
  attachTracer(
    replay.vm,
    {
      step: (e) => current?.step(e),
      beforeMessage: (m) => current?.beforeMessage(m),
      afterMessage: (r) => current?.afterMessage(r),
    },
    () => {
      if (Date.now() > deadline.at) throw timeoutError(ctx)
    },
  )
  const coinbase = block.header.coinbase.toString()
  const out: Record<string, unknown>[] = []
  for (let i = 0; i <= last && i < block.transactions.length; i++) {
    const tx = block.transactions[i] as Block['transactions'][number]
    current = want(i) ? new Touched() : undefined
    deadline.at = Date.now() + ctx.limits.evmTimeoutMs
    const r = await replay.next()
    if (current) {
      const touched = withDiff ? touchedOf(current, tx.getSenderAddress().toString(), coinbase) : undefined
      const stateDiff =
        touched && behind
          ? stateDiffOf(await readAccounts(behind.vm, touched), await readAccounts(replay.vm, touched))
          : null
      out.push({
        output: bytesToHex(r.execResult.returnValue),
        stateDiff,
        trace: types.includes('trace') ? traceEntries(current, tx.gasLimit, r.totalGasSpent) : [],
        vmTrace: null,
        transactionHash: bytesToHex(tx.hash()),
      })
    }
    current = undefined
    if (behind) await behind.next()
  }
  return out
}

/**
 * Runs `pairs`' calls one after another as transactions on the state after `base` (through
 * eth_simulateV1's machinery, one block, no validation), each traced as its types ask.
 */
async function traceCalls(
  ctx: RpcContext,
  pairs: [SimCall, TraceTypes][],
  base: Block,
): Promise<Record<string, unknown>[]> {
  for (const [, types] of pairs) {
    checkTypes(types)
    if (types.includes('stateDiff')) {
      throw invalidParams(
        'stateDiff is not supported for calls: trace_replayTransaction gives it for mined transactions',
      )
    }
  }
  const out: Record<string, unknown>[] = []
  let current: Touched | undefined
  await simulate(ctx, { blockStateCalls: [{ calls: pairs.map(([c]) => c) }], validation: false }, base, {
    attach: (vm) =>
      attachTracer(
        vm,
        {
          step: (e) => current?.step(e),
          beforeMessage: (m) => current?.beforeMessage(m),
          afterMessage: (r) => current?.afterMessage(r),
        },
        () => {},
      ),
    beforeCall: () => {
      current = new Touched()
    },
    afterCall: (r, tx) => {
      const types = pairs[out.length]?.[1] ?? []
      out.push({
        output: bytesToHex(r.execResult.returnValue),
        stateDiff: null,
        trace: current && types.includes('trace') ? traceEntries(current, tx.gasLimit, r.totalGasSpent) : [],
        vmTrace: null,
      })
      current = undefined
    },
  })
  return out
}

/** A signed transaction as the call it makes (its sender recovered), for the simulation. */
function asCall(ctx: RpcContext, raw: `0x${string}`): SimCall {
  let tx: ReturnType<typeof decodeRawTx>
  try {
    tx = decodeRawTx(ctx.chain.common, hexToBytes(raw))
  } catch {
    throw invalidParams('invalid raw transaction: not a transaction in its canonical encoding')
  }
  const t = tx as unknown as { gasPrice?: bigint; maxFeePerGas?: bigint; maxPriorityFeePerGas?: bigint }
  return simCall.parse({
    from: tx.getSenderAddress().toString(),
    ...(tx.to ? { to: tx.to.toString() } : {}),
    gas: toQuantity(tx.gasLimit),
    value: toQuantity(tx.value),
    input: bytesToHex(tx.data),
    nonce: toQuantity(tx.nonce),
    ...(t.gasPrice !== undefined ? { gasPrice: toQuantity(t.gasPrice) } : {}),
    ...(t.maxFeePerGas !== undefined ? { maxFeePerGas: toQuantity(t.maxFeePerGas) } : {}),
    ...(t.maxPriorityFeePerGas !== undefined ? { maxPriorityFeePerGas: toQuantity(t.maxPriorityFeePerGas) } : {}),
  })
}

export const traceReplayMethods: MethodDef[] = [
  method({
    // A signed transaction traced as it would run on the latest state (not sent).
    name: 'trace_rawTransaction',
    params: z.tuple([data, traceTypes]),
    async handler([raw, types], ctx) {
      const [one] = await traceCalls(ctx, [[asCall(ctx, raw), types]], ctx.chain.head)
      return one ?? null
    },
  }),
  method({
    // reth's: the entry at `indices[0]` of the transaction's flat traces (null for any other length).
    name: 'trace_get',
    params: z.tuple([hash32, z.array(numberOrHex)]),
    async handler([hash, indices], ctx) {
      if (indices.length !== 1) return null
      const traces = await invokeMethod(traceTransaction, [hash], ctx)
      return traces?.[Number(indices[0])] ?? null
    },
  }),
  method({
    name: 'trace_replayBlockTransactions',
    params: z.tuple([blockRef, traceTypes]),
    async handler([ref, types], ctx) {
      checkTypes(types)
      const block = await findBlock(ctx, ref)
      if (!block) return []
      return replayBlockTraced(ctx, block, types, () => true, block.transactions.length - 1)
    },
  }),
  method({
    name: 'trace_replayTransaction',
    params: z.tuple([hash32, traceTypes]),
    async handler([hash, types], ctx) {
      checkTypes(types)
      const loc = await ctx.chain.getTxLocation(hexToBytes(hash))
      if (!loc) return null
      const block = await ctx.chain.mustGetBlock(loc.blockHash)
      const [one] = await replayBlockTraced(ctx, block, types, (i) => i === loc.index, loc.index)
      if (!one) return null
      const { transactionHash: _h, ...rest } = one
      return rest
    },
  }),
  method({
    // Calls run one after another as transactions (each sees the previous ones' writes) on a
    // block's state, in the block after it, through eth_simulateV1's machinery (no validation:
    // nonces and fees as geth's simulation); the trace of each. stateDiff as for trace_call.
    name: 'trace_callMany',
    params: z.tuple([z.array(z.tuple([simCall, traceTypes])), blockRefOrHash.optional()]),
    async handler([pairs, ref], ctx) {
      for (const [, types] of pairs) {
        checkTypes(types)
        if (types.includes('stateDiff')) {
          throw invalidParams(
            'stateDiff is not supported for trace_callMany: trace_replayTransaction gives it for mined transactions',
          )
        }
      }
      return traceCalls(ctx, pairs, await resolveBlock(ctx, ref ?? 'latest'))
    },
  }),
  method({
    // A call on a block's state (latest by default) with the trace; stateDiff is not supported
    // for calls (their run is undone before its writes can be read).
    name: 'trace_call',
    params: z.tuple([callRequest, traceTypes, blockRef.optional()]),
    async handler([req, types, ref], ctx) {
      checkTypes(types)
      if (types.includes('stateDiff')) {
        throw invalidParams(
          'stateDiff is not supported for trace_call: trace_replayTransaction gives it for mined transactions',
        )
      }
      const block = await resolveBlock(ctx, ref)
      const call = await prepareCall(ctx, req, block, {})
      const t = new Touched()
      attachTracer(call.vm, t, () => {})
      const gasLimit = callGas(ctx, req)
      const res = await call.run(gasLimit)
      return {
        output: bytesToHex(res.execResult.returnValue),
        stateDiff: null,
        trace: types.includes('trace')
          ? traceEntries(t, gasLimit, call.intrinsicGas + res.execResult.executionGasUsed)
          : [],
        vmTrace: null,
      }
    },
  }),
]
