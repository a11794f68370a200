import { bytesToHex } from '@cairn/utils'
import type { InterpreterStep, Message } from '@ethereumjs/evm'
import type { Tracer } from './tracer.ts'

const COUNTED = new Set(['CALL', 'CALLCODE', 'DELEGATECALL', 'STATICCALL'])

/** Precompile addresses (0x01…0x11, and EIP-7951's P256VERIFY at 0x100): geth's 4byteTracer skips calls to them. */
function isPrecompile(address: string): boolean {
  const n = BigInt(address)
  return (n >= 1n && n <= 0x11n) || n === 0x100n
}

/**
 * geth's `4byteTracer`: how many times each function selector was called with each input size,
 * as `{"0x<selector>-<bytes after it>": count}`, over the transaction's call and every CALL,
 * CALLCODE, DELEGATECALL and STATICCALL it made with at least 4 bytes of input (creations and calls
 * to precompiles not counted).
 */
const MESSAGE_OPS: ReadonlySet<string> = new Set([
  'CALL',
  'CALLCODE',
  'DELEGATECALL',
  'STATICCALL',
  'CREATE',
  'CREATE2',
])

export class FourByteTracer implements Tracer {
  private readonly ids = new Map<string, number>()
  private lastOp = ''
  private depth = 0
  /** The opcodes that start messages (a creation's is not counted). */
  readonly ops: ReadonlySet<string> = MESSAGE_OPS

  step(e: InterpreterStep): void {
    this.lastOp = e.opcode.name
  }

  beforeMessage(m: Message): void {
    const type = this.depth === 0 ? (m.to ? 'CALL' : 'CREATE') : this.lastOp
    this.depth++
    if (!COUNTED.has(type) || m.data.length < 4) return
    const code = (m as unknown as { _codeAddress?: { toString(): string } })._codeAddress?.toString()
    const target = code ?? m.to?.toString()
    if (target && isPrecompile(target)) return
    const id = `${bytesToHex(m.data.subarray(0, 4))}-${m.data.length - 4}`
    this.ids.set(id, (this.ids.get(id) ?? 0) + 1)
  }

  afterMessage(): void {
    this.depth--
  }

  result(): Record<string, number> {
    return Object.fromEntries(this.ids)
  }
}
