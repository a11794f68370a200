import type { EVMResult } from '@ethereumjs/evm'
import type { Address } from '@ethereumjs/util'
import { invalidParams } from '../errors.ts'
import { type CallFrame, CallTracer } from './call-tracer.ts'
import { flatTraces } from './flat-traces.ts'
import { FourByteTracer } from './four-byte-tracer.ts'
import { PrestateTracer, type StateView } from './prestate-tracer.ts'
import { StructLogger, type StructLoggerConfig } from './struct-logger.ts'
import type { Tracer } from './tracer.ts'

/** geth's built-in tracers Cairn has (the struct logger is the default, named by no tracer). */
export const BUILTIN_TRACERS = [
  'callTracer',
  'flatCallTracer',
  'prestateTracer',
  '4byteTracer',
  'noopTracer',
  'muxTracer',
] as const

/** What a traced execution is: who its parties are and where it sits (for flatCallTracer). */
export interface TraceSubject {
  /** The sender, the recipient (none for a creation) and the block's coinbase: read before it starts. */
  parties: (Address | undefined)[]
  blockHash: string
  blockNumber: number
  /** A mined transaction's hash and index; a call's are the zero hash and 0. */
  transactionHash: string
  transactionPosition: number
  /** The logs of the block's transactions before this one (callTracer's first log `index`); a call's: 0. */
  firstLogIndex?: number
}

/** One tracer prepared for one execution. */
export interface TraceRun {
  tracer: Tracer
  /** Before the execution, on the state it starts from. */
  begin(state: StateView): Promise<void>
  /** After it, on the state it left (a replayed transaction's; a call's is undone and not read). */
  end(state: StateView): Promise<void>
  /** What debug_trace* answers, from the execution's result, the gas it used and its gas limit. */
  result(res: EVMResult, gasUsed: bigint, gasLimit: bigint): unknown
}

export interface TraceOptions extends StructLoggerConfig {
  tracer?: string | undefined
  tracerConfig?: Record<string, unknown> | undefined
}

const NO_STATE = async () => {}

/**
 * The tracer `options.tracer` names, prepared for `subject`: the struct logger (no name), or one
 * of {@link BUILTIN_TRACERS}. Anything else is refused (-32602): a name Cairn does not know, or
 * JavaScript tracer code (geth runs it in goja; Cairn runs no caller code outside the EVM, see
 * docs/api/json-rpc.md).
 */
export function traceRun(options: TraceOptions, structLogLimit: number, subject: TraceSubject): TraceRun {
  const name = options.tracer ?? ''
  const config = options.tracerConfig ?? {}
  switch (name) {
    case '':
    case 'structLogger': {
      const logger = new StructLogger(options, structLogLimit)
      return { tracer: logger, begin: NO_STATE, end: NO_STATE, result: (res, gasUsed) => logger.result(gasUsed, res) }
    }
    case 'callTracer': {
      const tracer = new CallTracer(config, subject.firstLogIndex ?? 0)
      return {
        tracer,
        begin: NO_STATE,
        end: NO_STATE,
        result: (_res, gasUsed, gasLimit) => tracer.result(gasLimit, gasUsed),
      }
    }
    case 'flatCallTracer': {
      const tracer = new CallTracer({})
      return {
        tracer,
        begin: NO_STATE,
        end: NO_STATE,
        result(_res, gasUsed, gasLimit) {
          const root = tracer.result(gasLimit, gasUsed)
          if (!root) return []
          const tree = config.includePrecompiles === true ? root : withoutPrecompiles(root)
          const { blockHash, blockNumber, transactionHash, transactionPosition } = subject
          const where = { blockHash, blockNumber, transactionHash, transactionPosition }
          return flatTraces(tree, where, config.convertParityErrors === true ? 'parity' : 'geth')
        },
      }
    }
    case 'prestateTracer': {
      const tracer = new PrestateTracer(config)
      return {
        tracer,
        begin: (state) => tracer.begin(state, subject.parties),
        end: (state) => tracer.end(state),
        result: () => tracer.result(),
      }
    }
    case '4byteTracer': {
      const tracer = new FourByteTracer()
      return { tracer, begin: NO_STATE, end: NO_STATE, result: () => tracer.result() }
    }
    case 'noopTracer':
      return { tracer: { ops: new Set() }, begin: NO_STATE, end: NO_STATE, result: () => ({}) }
    case 'muxTracer':
      return muxRun(config, structLogLimit, subject)
  }
  if (/^[A-Za-z0-9_]+$/.test(name)) {
    throw invalidParams(
      `tracer "${name}" is not supported: use the default struct logger or one of ${BUILTIN_TRACERS.join(', ')}`,
    )
  }
  throw invalidParams(
    `JavaScript tracers are not supported: Cairn runs no caller-supplied code outside the EVM; use the default struct logger or one of ${BUILTIN_TRACERS.join(', ')}`,
  )
}

/** geth's muxTracer: several tracers over one execution, `{name: result}` (tracerConfig: `{name: config}`). */
function muxRun(config: Record<string, unknown>, structLogLimit: number, subject: TraceSubject): TraceRun {
  const runs = Object.entries(config).map(([name, sub]) => {
    if (name === 'muxTracer') throw invalidParams('muxTracer cannot hold another muxTracer')
    return [
      name,
      traceRun({ tracer: name, tracerConfig: (sub ?? {}) as Record<string, unknown> }, structLogLimit, subject),
    ] as const
  })
  const tracers = runs.map(([, r]) => r.tracer)
  // The opcodes any of them reads, when each names its own; else every step.
  const named = tracers.every((t) => t.ops !== undefined)
  const tracer: Tracer = {
    ...(named ? { ops: new Set(tracers.flatMap((t) => [...(t.ops ?? [])])) } : {}),
    step: (e) => {
      for (const t of tracers) t.step?.(e)
    },
    beforeMessage: (m) => {
      for (const t of tracers) t.beforeMessage?.(m)
    },
    afterMessage: (r) => {
      for (const t of tracers) t.afterMessage?.(r)
    },
  }
  const asyncSteps = tracers.filter((t) => t.stepAsync)
  if (asyncSteps.length > 0) {
    tracer.stepAsync = (e) => {
      const waits = asyncSteps.map((t) => t.stepAsync?.(e)).filter((p) => p !== undefined)
      return waits.length === 0 ? undefined : Promise.all(waits).then(() => {})
    }
  }
  const asyncAfters = tracers.filter((t) => t.afterMessageAsync)
  if (asyncAfters.length > 0) {
    tracer.afterMessageAsync = (r) => {
      const waits = asyncAfters.map((t) => t.afterMessageAsync?.(r)).filter((p) => p !== undefined)
      return waits.length === 0 ? undefined : Promise.all(waits).then(() => {})
    }
  }
  return {
    tracer,
    async begin(state) {
      for (const [, r] of runs) await r.begin(state)
    },
    async end(state) {
      for (const [, r] of runs) await r.end(state)
    },
    result: (res, gasUsed, gasLimit) =>
      Object.fromEntries(runs.map(([name, r]) => [name, r.result(res, gasUsed, gasLimit)])),
  }
}

/** Precompile addresses (0x01…0x11, P256VERIFY at 0x100). */
function isPrecompile(address: string | undefined): boolean {
  if (!address) return false
  const n = BigInt(address)
  return (n >= 1n && n <= 0x11n) || n === 0x100n
}

/** The tree without calls to precompiles (geth's flatCallTracer leaves them out unless includePrecompiles). */
function withoutPrecompiles(frame: CallFrame): CallFrame {
  if (!frame.calls) return frame
  const calls = frame.calls.filter((c) => !(isPrecompile(c.to) && !c.calls)).map(withoutPrecompiles)
  const out = { ...frame }
  if (calls.length > 0) out.calls = calls
  else delete out.calls
  return out
}
