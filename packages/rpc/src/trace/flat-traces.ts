import { type CallFrame, walkFrames } from './call-frames.ts'

// Parity's (OpenEthereum's, Erigon's, reth's, Anvil's) flat call traces, made from geth's call
// tracer's tree: trace_transaction, trace_block, trace_filter and geth's flatCallTracer.

const CALL_TYPES: Record<string, string> = {
  CALL: 'call',
  STATICCALL: 'staticcall',
  DELEGATECALL: 'delegatecall',
  CALLCODE: 'callcode',
}

/** geth's wording → Parity's (geth's flatCallTracer `convertParityErrors` table, as Anvil and reth print them). */
const PARITY_ERRORS: Record<string, string> = {
  'contract creation code storage out of gas': 'Out of gas',
  'out of gas': 'Out of gas',
  'gas uint64 overflow': 'Out of gas',
  'max code size exceeded': 'Out of gas',
  'invalid jump destination': 'Bad jump destination',
  'execution reverted': 'Reverted',
  'return data out of bounds': 'Out of bounds',
  'stack limit reached 1024 (1023)': 'Out of stack',
  'precompiled failed': 'Built-in failed',
  'invalid input length': 'Built-in failed',
}

function parityError(error: string): string {
  const known = PARITY_ERRORS[error]
  if (known) return known
  if (error.startsWith('invalid opcode')) return 'Bad instruction'
  if (error.startsWith('stack underflow')) return 'Stack underflow'
  return error
}

/**
 * A call tree as Parity's flat traces, one entry per frame in depth-first order. `errors`: Parity's
 * wording ("Reverted") or geth's as the call tracer gives it (geth's flatCallTracer without
 * `convertParityErrors`).
 */
export function flatTraces(
  root: CallFrame,
  where: { blockHash: string; blockNumber: number; transactionHash: string; transactionPosition: number },
  errors: 'parity' | 'geth' = 'parity',
): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = []
  for (const { frame, path } of walkFrames(root)) {
    const common = { ...where, subtraces: frame.calls?.length ?? 0, traceAddress: path }
    const value = frame.value ?? '0x0'
    let entry: Record<string, unknown>
    if (frame.type === 'CREATE' || frame.type === 'CREATE2') {
      entry = {
        action: {
          creationMethod: frame.type.toLowerCase(),
          from: frame.from,
          gas: frame.gas,
          init: frame.input,
          value,
        },
        ...common,
        result: { address: frame.to, code: frame.output ?? '0x', gasUsed: frame.gasUsed },
        type: 'create',
      }
    } else if (frame.type === 'SELFDESTRUCT') {
      entry = {
        action: { address: frame.from, balance: value, refundAddress: frame.to },
        ...common,
        result: null,
        type: 'suicide',
      }
    } else {
      entry = {
        action: {
          callType: CALL_TYPES[frame.type] ?? frame.type.toLowerCase(),
          from: frame.from,
          gas: frame.gas,
          input: frame.input,
          to: frame.to,
          value,
        },
        ...common,
        result: { gasUsed: frame.gasUsed, output: frame.output ?? '0x' },
        type: 'call',
      }
    }
    if (frame.error) {
      entry.error = errors === 'parity' ? parityError(frame.error) : frame.error
      // A revert's output is its reason: kept (with the gas it used), as geth's flatCallTracer and
      // Anvil's trace_transaction keep it. Any other failure has no result: Parity's `null`, geth's none.
      if (frame.error !== 'execution reverted') {
        if (errors === 'parity') entry.result = null
        else delete entry.result
      }
    }
    out.push(entry)
  }
  return out
}
