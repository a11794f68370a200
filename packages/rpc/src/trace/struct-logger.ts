import { bytesToHex, CairnError } from '@cairn/utils'
import type { EVMResult, InterpreterStep, Message } from '@ethereumjs/evm'
import { RpcErrorCode } from '../errors.ts'
import { gethError, type Tracer } from './tracer.ts'

/** geth's struct logger options (`debug_trace*` config). */
export interface StructLoggerConfig {
  disableStack?: boolean | undefined
  disableStorage?: boolean | undefined
  enableMemory?: boolean | undefined
  enableReturnData?: boolean | undefined
}

/** One executed opcode, in geth's `structLogs` format. */
export interface StructLog {
  pc: number
  op: string
  gas: number
  gasCost: number
  depth: number
  stack?: string[]
  memory?: string[]
  storage?: Record<string, string>
  returnData?: string
  refund?: number
  error?: string
}

/** geth's default tracer result. */
export interface StructLoggerResult {
  gas: number
  failed: boolean
  returnValue: string
  structLogs: StructLog[]
}

const word = (n: bigint) => n.toString(16).padStart(64, '0')

/**
 * geth's default "struct logger": one entry per executed opcode with the gas left before it, its
 * cost (for calls including the gas handed to the callee), the depth (1 = the transaction), the
 * stack (bottom first, quantities), optionally memory (32-byte words) and return data, and the
 * storage slots the contract has read or written so far (on SLOAD/SSTORE entries). At most
 * `limit` entries: a longer trace is refused rather than buffered without bound.
 */
export class StructLogger implements Tracer {
  readonly logs: StructLog[] = []
  private readonly storage = new Map<string, Map<string, string>>()
  /** The return data each open frame has seen from its last call (RETURNDATA buffer). */
  private readonly returnData: Uint8Array[] = []
  /** An SLOAD whose loaded value shows up on the stack at the next step of its frame. */
  private pendingLoad: { log: StructLog; depth: number; contract: string; key: string } | undefined

  constructor(
    private readonly config: StructLoggerConfig,
    private readonly limit: number,
  ) {}

  step(e: InterpreterStep): void {
    if (this.logs.length >= this.limit) {
      throw new CairnError(RpcErrorCode.LIMIT, `trace exceeds ${this.limit} struct logs`, {
        fault: 'caller',
        hint: 'use the callTracer, or trace a smaller call',
      })
    }
    const depth = e.depth + 1
    const pending = this.pendingLoad
    if (pending) {
      this.pendingLoad = undefined
      if (pending.depth === depth) {
        const top = e.stack[e.stack.length - 1] ?? 0n
        const slots = this.slotsOf(pending.contract)
        slots.set(pending.key, word(top))
        pending.log.storage = Object.fromEntries(slots)
      }
    }
    const op = e.opcode.name
    const log: StructLog = {
      pc: e.pc,
      op,
      gas: Number(e.gasLeft),
      gasCost: Number(e.opcode.dynamicFee ?? BigInt(e.opcode.fee)),
      depth,
    }
    if (!this.config.disableStack) log.stack = e.stack.map((v) => `0x${v.toString(16)}`)
    if (this.config.enableMemory) {
      const words: string[] = []
      for (let i = 0; i < e.memory.length; i += 32) {
        words.push(
          Buffer.from(e.memory.subarray(i, i + 32))
            .toString('hex')
            .padEnd(64, '0'),
        )
      }
      log.memory = words
    }
    if (this.config.enableReturnData) {
      const rd = this.returnData[this.returnData.length - 1]
      if (rd && rd.length > 0) log.returnData = bytesToHex(rd)
    }
    if (e.gasRefund > 0n) log.refund = Number(e.gasRefund)
    if (!this.config.disableStorage && (op === 'SLOAD' || op === 'SSTORE')) {
      const contract = e.address.toString()
      const key = word(e.stack[e.stack.length - 1] ?? 0n)
      if (op === 'SSTORE') {
        const slots = this.slotsOf(contract)
        slots.set(key, word(e.stack[e.stack.length - 2] ?? 0n))
        log.storage = Object.fromEntries(slots)
      } else {
        log.storage = Object.fromEntries(this.slotsOf(contract))
        this.pendingLoad = { log, depth, contract, key }
      }
    }
    this.logs.push(log)
  }

  beforeMessage(_m: Message): void {
    this.returnData.push(new Uint8Array())
  }

  afterMessage(r: EVMResult): void {
    const depth = this.returnData.length
    this.returnData.pop()
    const parent = this.returnData.length - 1
    if (parent >= 0) this.returnData[parent] = r.execResult.returnValue
    const err = r.execResult.exceptionError
    const last = this.logs[this.logs.length - 1]
    // As geth: the opcode that failed the frame carries the error (a REVERT is not an error here).
    if (err && err.error !== 'revert' && last?.depth === depth && !last.error)
      last.error = gethError(err.error, last.op)
  }

  /** The result object, given the transaction's gas used and outcome. */
  result(gas: bigint, res: EVMResult): StructLoggerResult {
    const err = res.execResult.exceptionError
    const returnValue = err && err.error !== 'revert' ? '0x' : bytesToHex(res.execResult.returnValue)
    return { gas: Number(gas), failed: err !== undefined, returnValue, structLogs: this.logs }
  }

  private slotsOf(contract: string): Map<string, string> {
    let slots = this.storage.get(contract)
    if (!slots) {
      slots = new Map()
      this.storage.set(contract, slots)
    }
    return slots
  }
}
