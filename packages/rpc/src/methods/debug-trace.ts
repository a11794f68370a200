import { type ReplaySession, txSender } from '@cairn/chain'
import { bytesToHex, CairnError, hexToBytes } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import type { EVMResult } from '@ethereumjs/evm'
import { Address } from '@ethereumjs/util'
import type { VM } from '@ethereumjs/vm'
import { z } from 'zod'
import type { RpcContext } from '../context.ts'
import { notFound, RpcErrorCode } from '../errors.ts'
import { callGas, prepareCall } from '../exec.ts'
import { invokeMethod, type MethodDef, method } from '../method.ts'
import { findBlock, resolveBlock } from '../resolve.ts'
import { blockOverride, blockRef, callRequest, hash32, stateOverride } from '../schemas.ts'
import type { CallFrame } from '../trace/call-tracer.ts'
import type { StateView } from '../trace/prestate-tracer.ts'
import { withReplayAt } from '../trace/replays.ts'
import { attachTracer, type Tracer } from '../trace/tracer.ts'
import { type TraceSubject, traceRun } from '../trace/tracers.ts'

/** geth's trace config: the tracer (default: struct logger) and its options. */
const traceConfig = z
  .object({
    tracer: z.string().optional(),
    tracerConfig: z
      .object({ onlyTopCall: z.boolean().optional(), withLog: z.boolean().optional() })
      .passthrough()
      .optional(),
    disableStack: z.boolean().optional(),
    disableStorage: z.boolean().optional(),
    enableMemory: z.boolean().optional(),
    enableReturnData: z.boolean().optional(),
    timeout: z
      .string()
      .regex(/^\d+(\.\d+)?(ms|s|m)$/, 'expected a duration like "5s" or "500ms"')
      .optional(),
    reexec: z.number().optional(),
  })
  .passthrough()
type TraceConfig = z.infer<typeof traceConfig>

/** debug_traceCall's config adds geth's state and block overrides. */
const callTraceConfig = traceConfig.extend({
  stateOverrides: stateOverride.optional(),
  blockOverrides: blockOverride.optional(),
})

interface RunningTrace {
  /** Runs the traced execution; returns its result, the gas it used and its gas limit. */
  run(): Promise<{ res: EVMResult; gasUsed: bigint; gasLimit: bigint }>
  vm: VM
  subject: TraceSubject
  /** The state is the execution's after run() (a replayed transaction); false: undone (a call). */
  keepsState: boolean
}

const ZERO_HASH = `0x${'00'.repeat(32)}`

/** A mined transaction as a tracer sees it: its sender, recipient, the block's coinbase, where it is. */
function txSubject(block: Block, index: number, firstLogIndex: number): TraceSubject {
  const tx = block.transactions[index] as Block['transactions'][number]
  return {
    parties: [txSender(tx), tx.to, block.header.coinbase],
    blockHash: bytesToHex(block.hash()),
    blockNumber: Number(block.header.number),
    transactionHash: bytesToHex(tx.hash()),
    transactionPosition: index,
    firstLogIndex,
  }
}

/** The logs of a stored block's transactions before transaction `index` (its receipts'). */
async function logsBefore(ctx: RpcContext, block: Block, index: number): Promise<number> {
  if (index === 0) return 0
  const receipts = await ctx.chain.getReceipts(block.hash())
  let n = 0
  for (const r of receipts?.slice(0, index) ?? []) n += r.logs.length
  return n
}

function durationMs(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(s) as RegExpExecArray
  const n = Number(m[1])
  return m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000
}

/** The tracer a config names, for one execution; refuses tracers Cairn does not have (tracers.ts). */
function tracerFor(ctx: RpcContext, config: TraceConfig, subject: TraceSubject) {
  return traceRun(config, ctx.limits.traceStructLogLimit, subject)
}

/** The time limit of one traced transaction: the smaller of the node's and the caller's. */
function limitMsOf(ctx: RpcContext, config: TraceConfig): number {
  return Math.min(ctx.limits.evmTimeoutMs, config.timeout ? durationMs(config.timeout) : Infinity)
}

function timeout(limitMs: number): CairnError {
  return new CairnError(RpcErrorCode.TIMEOUT, `execution aborted (timeout = ${limitMs / 1000}s)`, {
    fault: 'caller',
    hint: 'the trace ran longer than allowed; use the callTracer or trace less',
  })
}

/** Runs `trace` under the chosen tracer, within the time limit (the smaller of the node's and the caller's). */
async function traceWith(ctx: RpcContext, config: TraceConfig, prepare: () => Promise<RunningTrace>) {
  const limitMs = limitMsOf(ctx, config)
  const deadline = Date.now() + limitMs
  const guard = () => {
    if (Date.now() > deadline) throw timeout(limitMs)
  }
  const trace = await prepare()
  const run = tracerFor(ctx, config, trace.subject)
  guard()
  const state = trace.vm.stateManager as unknown as StateView
  await run.begin(state)
  const detach = attachTracer(trace.vm, run.tracer, guard)
  let ran: Awaited<ReturnType<RunningTrace['run']>>
  try {
    ran = await trace.run()
  } finally {
    detach()
  }
  if (trace.keepsState) await run.end(state)
  return run.result(ran.res, ran.gasUsed, ran.gasLimit)
}

/**
 * geth's debug_traceBlockBy*: every transaction of the block replayed in order on the parent's
 * state (a kept replay of the block, see replays.ts), each under a fresh tracer and its own time
 * limit; `[{txHash, result}]`.
 */
async function traceBlock(ctx: RpcContext, block: Block, config: TraceConfig) {
  if (block.header.number === 0n)
    throw new CairnError(RpcErrorCode.EXECUTION_FAILED, 'genesis is not traceable', { fault: 'caller' })
  if (block.transactions.length === 0) return []
  tracerFor(ctx, config, txSubject(block, 0, 0)) // refuses an unknown tracer before any work
  return withReplayAt(ctx, block, 0, (replay) => traceReplayed(ctx, replay, block, config))
}

async function traceReplayed(ctx: RpcContext, replay: ReplaySession, block: Block, config: TraceConfig) {
  const limitMs = limitMsOf(ctx, config)
  let deadline = 0
  let current: Tracer = {}
  // The opcodes the tracer reads (each transaction's tracer reads the same ones).
  const ops = tracerFor(ctx, config, txSubject(block, 0, 0)).tracer.ops
  // One set of listeners on the replay's VM, forwarding to the transaction's own tracer.
  const detach = attachTracer(
    replay.vm,
    {
      ...(ops ? { ops } : {}),
      step: (e) => current.step?.(e),
      beforeMessage: (m) => current.beforeMessage?.(m),
      afterMessage: (r) => current.afterMessage?.(r),
      stepAsync: (e) => current.stepAsync?.(e),
      afterMessageAsync: (r) => current.afterMessageAsync?.(r),
    },
    () => {
      if (Date.now() > deadline) throw timeout(limitMs)
    },
  )
  const out: { txHash: string; result: unknown }[] = []
  const state = replay.vm.stateManager as unknown as StateView
  let logs = 0
  try {
    for (const [i, tx] of block.transactions.entries()) {
      const run = tracerFor(ctx, config, txSubject(block, i, logs))
      await run.begin(state)
      current = run.tracer
      deadline = Date.now() + limitMs
      const r = await replay.next()
      logs += r.receipt.logs.length
      await run.end(state)
      out.push({ txHash: bytesToHex(tx.hash()), result: run.result(r, r.totalGasSpent, tx.gasLimit) })
    }
  } finally {
    detach()
  }
  return out
}

/** The call trees of a block's transactions, in order (one replay of the block under `callTracer`). */
export async function blockCallTrees(ctx: RpcContext, block: Block): Promise<CallFrame[]> {
  if (block.transactions.length === 0) return []
  const traced = await traceBlock(ctx, block, { tracer: 'callTracer' })
  return traced.map((t) => t.result as CallFrame)
}

/** debug_traceTransaction (declared apart: the call trees of ots_ and trace_ methods ask it). */
export const debugTraceTransaction = method({
  name: 'debug_traceTransaction',
  params: z.tuple([hash32, traceConfig.optional()]),
  async handler([hash, config], ctx) {
    const { chain } = ctx
    const loc = await chain.getTxLocation(hexToBytes(hash))
    if (!loc) throw notFound(`transaction ${hash} not found`)
    const block = await chain.mustGetBlock(loc.blockHash)
    const subject = txSubject(block, loc.index, await logsBefore(ctx, block, loc.index))
    tracerFor(ctx, config ?? {}, subject) // refuses an unknown tracer before any work
    const tx = block.transactions[loc.index] as (typeof block.transactions)[number]
    // A kept replay of the block, at the transaction (its predecessors run, untraced).
    return withReplayAt(ctx, block, loc.index, (replay) =>
      traceWith(ctx, config ?? {}, async () => ({
        vm: replay.vm,
        subject,
        keepsState: true,
        async run() {
          const r = await replay.next()
          return { res: r, gasUsed: r.totalGasSpent, gasLimit: tx.gasLimit }
        },
      })),
    )
  },
})

/** The call tree of a mined transaction (debug_traceTransaction with callTracer); undefined when unknown. */
export async function callTreeOf(ctx: RpcContext, hash: string): Promise<CallFrame | undefined> {
  return (await invokeMethod(debugTraceTransaction, [hash, { tracer: 'callTracer' }], ctx)) as CallFrame | undefined
}

/** geth's debug tracing: re-executes a mined transaction, or a call, with a tracer attached. */
export const debugTraceMethods: MethodDef[] = [
  method({
    name: 'debug_traceBlockByNumber',
    params: z.tuple([blockRef, traceConfig.optional()]),
    async handler([ref, config], ctx) {
      const block = await findBlock(ctx, ref)
      if (!block) throw notFound(`block #${typeof ref === 'bigint' ? ref : JSON.stringify(ref)} not found`)
      return traceBlock(ctx, block, config ?? {})
    },
  }),
  method({
    name: 'debug_traceBlockByHash',
    params: z.tuple([hash32, traceConfig.optional()]),
    async handler([hash, config], ctx) {
      const block = await ctx.chain.getBlock(hexToBytes(hash))
      if (!block) throw notFound(`block ${hash} not found`)
      return traceBlock(ctx, block, config ?? {})
    },
  }),
  debugTraceTransaction,
  method({
    name: 'debug_traceCall',
    params: z.tuple([callRequest, blockRef.optional(), callTraceConfig.optional()]),
    async handler([req, ref, config], ctx) {
      const block = await resolveBlock(ctx, ref)
      return traceWith(ctx, config ?? {}, async () => {
        const call = await prepareCall(ctx, req, block, {
          ...(config?.stateOverrides ? { state: config.stateOverrides } : {}),
          ...(config?.blockOverrides ? { block: config.blockOverrides } : {}),
        })
        const gasLimit = callGas(ctx, req)
        return {
          vm: call.vm,
          subject: {
            parties: [
              req.from ? new Address(hexToBytes(req.from)) : new Address(new Uint8Array(20)),
              req.to ? new Address(hexToBytes(req.to)) : undefined,
              call.block.header.coinbase,
            ],
            blockHash: bytesToHex(block.hash()),
            blockNumber: Number(block.header.number),
            transactionHash: ZERO_HASH,
            transactionPosition: 0,
          },
          keepsState: false,
          async run() {
            const res = await call.run(gasLimit)
            const e = res.execResult
            // As a transaction would pay: intrinsic + execution, less the capped refund (EIP-3529).
            const spent = call.intrinsicGas + e.executionGasUsed
            const refund = e.exceptionError ? 0n : min(e.gasRefund ?? 0n, spent / 5n)
            const used = spent - refund
            return { res, gasUsed: used > call.minimumGas ? used : call.minimumGas, gasLimit }
          },
        }
      })
    },
  }),
]

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b
}
