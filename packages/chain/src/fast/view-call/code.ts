import { bytesToBigInt } from '@cairn/utils'

/** A contract's code with its valid jump destinations, analysed once per code object. */
export interface AnalysedCode {
  code: Uint8Array
  /** 1 where a JUMPDEST opcode (not PUSH data) stands. */
  jumpdests: Uint8Array
  /** The value each PUSH1–PUSH32 pushes, by the PUSH's position (data past the code's end is zero). */
  pushes: bigint[]
}

const PUSH1 = 0x60
const PUSH32 = 0x7f
const JUMPDEST = 0x5b

const analysed = new WeakMap<Uint8Array, AnalysedCode>()

/**
 * The analysis of `code`, kept per code object: the state caches hand out the same bytes for the
 * same account, so a contract called again is not scanned again.
 */
export function analyse(code: Uint8Array): AnalysedCode {
  let a = analysed.get(code)
  if (a === undefined) {
    const jumpdests = new Uint8Array(code.length)
    const pushes: bigint[] = []
    for (let pc = 0; pc < code.length; pc++) {
      const op = code[pc] as number
      if (op === JUMPDEST) jumpdests[pc] = 1
      else if (op >= PUSH1 && op <= PUSH32) {
        const n = op - PUSH1 + 1
        const data = code.subarray(pc + 1, pc + 1 + n)
        pushes[pc] = bytesToBigInt(data) << BigInt(8 * (n - data.length))
        pc += n
      }
    }
    a = { code, jumpdests, pushes }
    analysed.set(code, a)
  }
  return a
}
