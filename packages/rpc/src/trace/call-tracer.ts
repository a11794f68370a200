import { bytesToHex, toQuantity } from '@cairn/utils'
import type { EVMResult, InterpreterStep, Message } from '@ethereumjs/evm'
import { decodeRevertReason } from '../exec.ts'
import { gethError, type Tracer } from './tracer.ts'

/** geth's callTracer options (`tracerConfig`). */
export interface CallTracerConfig {
  onlyTopCall?: boolean | undefined
  withLog?: boolean | undefined
}

export interface CallLog {
  address: string
  topics: string[]
  data: string
  position: string
  /** The log's index in the block (its receipt's `logIndex`); set once the transaction ends. */
  index?: string
}

/** A log emitted in a frame: it takes effect (and an index) unless its frame or an ancestor fails. */
interface Emitted {
  log: CallLog
  failed: boolean
}

/** One call frame, in geth's callTracer format. */
export interface CallFrame {
  type: string
  from: string
  to?: string
  value?: string
  gas: string
  gasUsed: string
  input: string
  output?: string
  error?: string
  revertReason?: string
  logs?: CallLog[]
  calls?: CallFrame[]
}

interface OpenFrame {
  frame: CallFrame
  message: Message
  /** The frame's own logs, as printed (none of nested frames under onlyTopCall). */
  logs: CallLog[]
  /** Every log emitted in the frame and its finished children, in order. */
  emitted: Emitted[]
  calls: CallFrame[]
}

const CALL_OPS = new Set(['CALL', 'CALLCODE', 'DELEGATECALL', 'STATICCALL', 'CREATE', 'CREATE2'])
const FRAME_OPS: ReadonlySet<string> = new Set([...CALL_OPS, 'SELFDESTRUCT'])
const WITH_LOG_OPS: ReadonlySet<string> = new Set([...FRAME_OPS, 'LOG0', 'LOG1', 'LOG2', 'LOG3', 'LOG4'])

/**
 * geth's `callTracer`: the tree of calls a transaction made (CALL, STATICCALL, DELEGATECALL,
 * CALLCODE, CREATE, CREATE2, SELFDESTRUCT) with gas given and used, input, output, error and the
 * decoded `Error(string)` revert reason; with `withLog`, each frame's logs (dropped when the frame
 * or an ancestor fails), each with its `index` in the block (the execution-apis rule: the logs that
 * took effect before it, from `firstLogIndex`, the logs of the block's earlier transactions; a
 * failed frame's logs take none; onlyTopCall prints the top frame's but numbers them all). The
 * frame type is the opcode that started the message.
 */
export class CallTracer implements Tracer {
  private readonly stack: OpenFrame[] = []
  private top: CallFrame | undefined
  private topEmitted: Emitted[] = []
  private lastOp = ''
  /** The opcodes it reads: the ones that start frames, self-destructs, and logs with `withLog`. */
  readonly ops: ReadonlySet<string>

  constructor(
    private readonly config: CallTracerConfig,
    private readonly firstLogIndex = 0,
  ) {
    this.ops = config.withLog ? WITH_LOG_OPS : FRAME_OPS
  }

  step(e: InterpreterStep): void {
    const op = e.opcode.name
    this.lastOp = op
    const current = this.stack[this.stack.length - 1]
    if (!current) return
    const s = e.stack
    if (op === 'SELFDESTRUCT') {
      if (this.config.onlyTopCall) return
      current.calls.push({
        type: 'SELFDESTRUCT',
        from: e.address.toString(),
        to: `0x${(s[s.length - 1] ?? 0n).toString(16).padStart(40, '0')}`,
        value: toQuantity(e.account.balance),
        gas: '0x0',
        gasUsed: '0x0',
        input: '0x',
      })
    } else if (this.config.withLog && op.startsWith('LOG')) {
      const n = Number(op.slice(3))
      const offset = Number(s[s.length - 1] ?? 0n)
      const size = Number(s[s.length - 2] ?? 0n)
      const data = new Uint8Array(size)
      data.set(e.memory.subarray(offset, offset + size))
      const topics: string[] = []
      for (let i = 0; i < n; i++) topics.push(`0x${(s[s.length - 3 - i] ?? 0n).toString(16).padStart(64, '0')}`)
      const log: CallLog = {
        address: e.address.toString(),
        topics,
        data: bytesToHex(data),
        position: toQuantity(current.calls.length),
      }
      current.emitted.push({ log, failed: false })
      if (!this.config.onlyTopCall || this.stack.length === 1) current.logs.push(log)
    }
  }

  beforeMessage(m: Message): void {
    const parent = this.stack[this.stack.length - 1]
    const type = parent
      ? CALL_OPS.has(this.lastOp)
        ? this.lastOp
        : m.to
          ? 'CALL'
          : 'CREATE'
      : m.to
        ? 'CALL'
        : 'CREATE'
    const codeAddress = (m as unknown as { _codeAddress?: { toString(): string } })._codeAddress
    const from =
      type === 'DELEGATECALL' || type === 'CALLCODE' ? (m.to?.toString() ?? m.caller.toString()) : m.caller.toString()
    const frame: CallFrame = {
      type,
      from,
      gas: toQuantity(m.gasLimit),
      gasUsed: '0x0',
      input: bytesToHex(m.data),
    }
    if (type === 'DELEGATECALL' || type === 'CALLCODE') frame.to = codeAddress?.toString() ?? m.to?.toString()
    if (type !== 'STATICCALL') frame.value = toQuantity(m.value)
    this.stack.push({ frame, message: m, logs: [], emitted: [], calls: [] })
  }

  afterMessage(r: EVMResult): void {
    const open = this.stack.pop()
    if (!open) return
    const { frame, message } = open
    if (frame.to === undefined) frame.to = (r.createdAddress ?? message.to)?.toString()
    // Key order as geth prints it.
    const res = r.execResult
    frame.gasUsed = toQuantity(res.executionGasUsed)
    const err = res.exceptionError
    if (res.returnValue.length > 0 && (!err || err.error === 'revert')) frame.output = bytesToHex(res.returnValue)
    if (err) {
      // The only error geth names an opcode in; every opcode @ethereumjs cannot run is its INVALID.
      frame.error = gethError(err.error, 'INVALID')
      if (err.error === 'revert') {
        const reason = decodeRevertReason(res.returnValue)
        if (reason !== undefined && !reason.startsWith('panic: ')) frame.revertReason = reason
      }
    }
    if (this.config.withLog && !err && open.logs.length > 0) frame.logs = open.logs
    if (open.calls.length > 0) frame.calls = open.calls
    if (err) {
      dropLogs(frame)
      for (const e of open.emitted) e.failed = true
    }
    const parent = this.stack[this.stack.length - 1]
    if (parent) {
      if (!this.config.onlyTopCall) parent.calls.push(frame)
      parent.emitted.push(...open.emitted)
    } else {
      this.top = frame
      this.topEmitted = open.emitted
    }
  }

  /** The top frame; `gas` and `gasUsed` are the transaction's (intrinsic gas and refunds included). */
  result(gasLimit: bigint, gasUsed: bigint): CallFrame | null {
    if (!this.top) return null
    let index = this.firstLogIndex
    for (const e of this.topEmitted) if (!e.failed) e.log.index = toQuantity(index++)
    return order({ ...this.top, gas: toQuantity(gasLimit), gasUsed: toQuantity(gasUsed) })
  }
}

/** A failed frame's logs never happened (geth's clearFailedLogs), nor its children's. */
function dropLogs(frame: CallFrame): void {
  delete frame.logs
  for (const c of frame.calls ?? []) dropLogs(c)
}

const KEYS = [
  'type',
  'from',
  'to',
  'value',
  'gas',
  'gasUsed',
  'input',
  'output',
  'error',
  'revertReason',
  'logs',
  'calls',
] as const

/** The frame with geth's key order, recursively. */
function order(frame: CallFrame): CallFrame {
  const out: Record<string, unknown> = {}
  for (const k of KEYS) {
    const v = frame[k]
    if (v === undefined) continue
    out[k] = k === 'calls' ? (v as CallFrame[]).map(order) : v
  }
  return out as unknown as CallFrame
}
