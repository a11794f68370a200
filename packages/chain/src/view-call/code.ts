/** A contract's code with its valid jump destinations, analysed once per code object. */
export interface AnalysedCode {
  code: Uint8Array
  /** 1 where a JUMPDEST opcode (not PUSH data) stands. */
  jumpdests: Uint8Array
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
    for (let pc = 0; pc < code.length; pc++) {
      const op = code[pc] as number
      if (op === JUMPDEST) jumpdests[pc] = 1
      else if (op >= PUSH1 && op <= PUSH32) pc += op - PUSH1 + 1
    }
    a = { code, jumpdests }
    analysed.set(code, a)
  }
  return a
}
