// Over 600 lines, on purpose: one opcode loop whose switch, gas accounting and hand-back rules
// (to the EVM: a CALL, a write, an exceptional halt) must be read together against the EVM's;
// the code analysis, the words and the state reads are in files of their own.
import { bytesToBigInt } from '@cairn/utils'
import { Address } from '@ethereumjs/util'
import { analyse } from './code.ts'
import { byteLength, expWord, readWord, signExtend, toSigned, toWord, WORD_MASK, wordHex, writeWord } from './words.ts'

/**
 * A reader of one account's storage: the value of a 32-byte slot key (empty or minimal bytes for
 * 0), or undefined when it is not at hand (`ViewState.load` it).
 */
export type SlotReader = (key: Uint8Array) => Uint8Array | undefined

/**
 * The state a view call reads — code and storage — synchronously, as far as it is at hand: the
 * interpreter runs without a promise per read, and a read that is not at hand stops the run,
 * `load`s it and runs the call again from the start ({@link runViewCall}).
 */
export interface ViewState {
  /** The code at `address` (empty for none), or undefined when it is not at hand. */
  codeNow(address: Address): Uint8Array | undefined
  /** A reader of the storage of `address`, or undefined when its account is not at hand. */
  storageNow(address: Address): SlotReader | undefined
  /** Reads what was not at hand — the code and account of `address`, or its slot `key` — so that it is on the next run. */
  load(address: Address, key?: Uint8Array): Promise<void>
}

/** The block fields a view call may read (its base fee and gas price are 0: see {@link runViewCall}). */
export interface ViewBlock {
  number: bigint
  timestamp: bigint
  coinbase: Uint8Array
  gasLimit: bigint
  chainId: bigint
}

export interface ViewCallInput {
  state: ViewState
  /** The contract called (`to`). */
  address: Address
  /** The caller (`from`) and origin. */
  caller: Address
  data: Uint8Array
  /** The gas the call may execute (its limit less the intrinsic gas). */
  gas: bigint
  block: ViewBlock
  keccak256(data: Uint8Array): Uint8Array
}

/**
 * What a view call came to. `unsupported`: the call did something this interpreter does not
 * run (see {@link runViewCall}); it must be run by the full EVM, from the start. `gasUsed`: the
 * execution gas, as the EVM charges it.
 */
export type ViewCallResult =
  | { kind: 'return' | 'revert'; output: Uint8Array; gasUsed: bigint }
  | { kind: 'unsupported'; reason: string }

/** Memory past this many bytes costs more gas than any call may have: the EVM runs out of gas. */
const MAX_MEMORY = 1 << 25
const STACK_LIMIT = 1024

/**
 * Gas charged before each opcode, as the EVM charges it (0xffff: not run here); the access costs
 * of EIP-2929 (a cold account or slot: 2,600 or 2,100 in all, a warm one 100) on top, where run.
 */
const STATIC_GAS = new Uint16Array(256).fill(0xffff)
for (const [ops, gas] of [
  [[0x00, 0xf3, 0xfd], 0], // STOP RETURN REVERT
  [[0x5b], 1], // JUMPDEST
  [[0x30, 0x32, 0x33, 0x34, 0x36, 0x38, 0x3a, 0x3d, 0x41, 0x42, 0x43, 0x45, 0x46, 0x48, 0x50, 0x59, 0x5a, 0x5f], 2],
  [[0x01, 0x03, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d], 3],
  [[0x35, 0x37, 0x39, 0x3e, 0x51, 0x52, 0x53, 0x5e], 3],
  [[0x02, 0x04, 0x05, 0x06, 0x07, 0x0b], 5],
  [[0x08, 0x09, 0x56], 8], // ADDMOD MULMOD JUMP
  [[0x0a, 0x57], 10], // EXP JUMPI
  [[0x20], 30], // KECCAK256
  [[0x54, 0x3b, 0xf4, 0xfa], 100], // SLOAD EXTCODESIZE DELEGATECALL STATICCALL: a warm access
] as const) {
  for (const op of ops) STATIC_GAS[op] = gas
}
for (let op = 0x60; op <= 0x9f; op++) STATIC_GAS[op] = 3 // PUSH1–32, DUP, SWAP

/** What a cold access costs beyond a warm one (EIP-2929): an account, a storage slot. */
const COLD_ACCOUNT = 2500
const COLD_SLOT = 2000

class Unsupported {
  constructor(readonly reason: string) {}
}

/** A read that was not at hand: the account's code and account, or its slot `key`. */
class NotAtHand {
  constructor(
    readonly address: Address,
    readonly key?: Uint8Array,
  ) {}
}

/** Runs of one call that may stop for state not at hand before it goes to the EVM instead. */
const MAX_LOADS = 16

/**
 * Runs a read-only call to a contract without the full EVM: the opcodes view functions compile
 * to (arithmetic, comparison and bit operations, KECCAK256, calldata, code, memory, MCOPY, SLOAD,
 * jumps, PUSH/DUP/SWAP, the caller, origin, address and block fields, RETURN and REVERT), and
 * STATICCALL, DELEGATECALL (proxies) and EXTCODESIZE to other contracts, in frames of their own.
 * GAS too. Anything else — a CALL or CREATE, a write (SSTORE, TSTORE, LOG), SELFDESTRUCT, a
 * balance, a code hash or copy, PC, BLOCKHASH, PREVRANDAO, blobs, an access to a precompile or a
 * call to an account without code — and any exceptional halt in any frame (stack or jump errors, invalid opcodes, running out
 * of gas, return data out of bounds) is `unsupported`: the caller runs the call through the EVM
 * instead, from the start, which reports it as it always did. Nothing a call reads changes under
 * it (it writes nothing), so running it again gives what the EVM would have given.
 *
 * Gas is charged as the EVM charges it, warm and cold accesses (EIP-2929) included, with the
 * transaction's warm set at the start (sender, recipient, coinbase) and a reverted frame's
 * accesses undone: GAS reads what the EVM's would, and a call runs out of gas where the EVM's does.
 *
 * The caller's checks: the call sends no value and pays no gas price (so BASEFEE and GASPRICE are
 * 0, as geth runs such a call), and the rules are Cancun's or later (PUSH0, MCOPY, BASEFEE exist).
 *
 * The run is synchronous, on the state at hand (`ViewState`): a promise per read (code, account,
 * frame, slot) was a tenth of a quote's time. A read that is not at hand stops the run; it is
 * loaded and the call runs again from the start — at most {@link MAX_LOADS} times, then it goes
 * to the EVM. On warm caches (a contract called again at the same head) nothing is loaded.
 */
export async function runViewCall(input: ViewCallInput): Promise<ViewCallResult> {
  for (let loads = 0; ; loads++) {
    try {
      return run(input)
    } catch (err) {
      if (err instanceof Unsupported) return { kind: 'unsupported', reason: err.reason }
      if (!(err instanceof NotAtHand)) throw err
      // Nothing a run did is seen outside it (it writes nothing): read what was missing, run again.
      if (loads >= MAX_LOADS) return { kind: 'unsupported', reason: 'state not at hand' }
      await input.state.load(err.address, err.key)
    }
  }
}

/** What one frame runs: its code's account, the account whose storage it reads (DELEGATECALL: the caller's), its caller and input. */
interface Frame {
  codeAddress: Address
  address: Address
  caller: Address
  data: Uint8Array
  /** Gas the frame may use (a number: no call has 2^52). */
  gas: number
  depth: number
}

/** A frame's end: its output and the gas it left. */
interface FrameEnd {
  kind: 'return' | 'revert'
  output: Uint8Array
  gasLeft: number
}

/**
 * Per call: storage readers and the slots read, per account, and the accounts and slots accessed
 * (EIP-2929), shared by every frame; `accessed` lists what each access added, so that a frame that
 * reverts takes its accesses back (as the EVM's journal does).
 */
interface CallScope {
  input: ViewCallInput
  slots: Map<string, { read: SlotReader; values: Map<string, bigint> }>
  warm: Set<string>
  accessed: string[]
}

function run(input: ViewCallInput): ViewCallResult {
  const gas = input.gas > 1n << 52n ? 2 ** 52 : Number(input.gas)
  // Warm before the first opcode, as a transaction: the sender, the recipient, the coinbase
  // (EIP-3651); the precompiles too, which are never accessed here (see `accessAccount`).
  const warm = new Set([
    input.caller.toString(),
    input.address.toString(),
    new Address(input.block.coinbase).toString(),
  ])
  const scope: CallScope = { input, slots: new Map(), warm, accessed: [] }
  const end = runFrame(scope, {
    codeAddress: input.address,
    address: input.address,
    caller: input.caller,
    data: input.data,
    gas,
    depth: 0,
  })
  return { kind: end.kind, output: end.output, gasUsed: BigInt(gas - end.gasLeft) }
}

/** The code a frame runs: unsupported when there is none (a precompile, an account without code) or it is a delegation. */
function codeOf(input: ViewCallInput, address: Address): Uint8Array {
  const code = codeNow(input, address)
  if (code.length === 0) throw new Unsupported('no code')
  if (code[0] === 0xef) throw new Unsupported('delegation or EOF code')
  return code
}

/** The code at `address`; stops the run when it is not at hand. */
function codeNow(input: ViewCallInput, address: Address): Uint8Array {
  const code = input.state.codeNow(address)
  if (code === undefined) throw new NotAtHand(address)
  return code
}

const ADDRESS_MASK = (1n << 160n) - 1n
/** Addresses below this are (or may become) precompiles: not run here. */
const PRECOMPILE_RANGE = 1n << 16n

/** The extra gas of accessing `address` (cold: 2,500 more), which is warm from then on. */
function accessAccount(scope: CallScope, w: bigint): { address: Address; extra: number } {
  if ((w & ADDRESS_MASK) < PRECOMPILE_RANGE) throw new Unsupported('precompile range')
  const address = addressOf(w)
  const key = address.toString()
  if (scope.warm.has(key)) return { address, extra: 0 }
  scope.warm.add(key)
  scope.accessed.push(key)
  return { address, extra: COLD_ACCOUNT }
}

function addressOf(w: bigint): Address {
  return new Address(Buffer.from((w & ADDRESS_MASK).toString(16).padStart(40, '0'), 'hex'))
}

/** A frame's first memory (grown by copying past it): most view calls never need more. */
const FRAME_MEMORY = 1024
/** Zeroed first memories of finished frames, reused (a fresh one is an off-heap allocation, freed by GC later). */
const spareMemory: Buffer<ArrayBuffer>[] = []
const MAX_SPARE_MEMORY = 64

/** Gives a frame's first memory back, zeroed where it was used (`used` bytes from the start). */
function releaseMemory(mem: Buffer<ArrayBuffer>, used: number): void {
  if (mem.length !== FRAME_MEMORY || spareMemory.length >= MAX_SPARE_MEMORY) return
  mem.fill(0, 0, Math.min(used, FRAME_MEMORY))
  spareMemory.push(mem)
}

function runFrame(scope: CallScope, frame: Frame): FrameEnd {
  const { input } = scope
  const code = codeOf(input, frame.codeAddress)
  const { jumpdests, pushes } = analyse(code)
  const storageKey = frame.address.toString()
  let storage = scope.slots.get(storageKey)
  if (storage === undefined) {
    const read = input.state.storageNow(frame.address)
    if (read === undefined) throw new NotAtHand(frame.address)
    storage = { read, values: new Map() }
    scope.slots.set(storageKey, storage)
  }
  const { read: readSlot, values: slots } = storage
  const data = frame.data
  let gas = frame.gas
  const stack: bigint[] = []
  let mem = spareMemory.pop() ?? Buffer.alloc(FRAME_MEMORY)
  let memView = new DataView(mem.buffer, mem.byteOffset, mem.length)
  let memWords = 0
  // The input with 32 zero bytes after it: CALLDATALOAD reads any word starting inside it.
  const padded = new Uint8Array(data.length + 32)
  padded.set(data)
  const dataView = new DataView(padded.buffer)
  let returned: Uint8Array = new Uint8Array(0)
  const block = input.block

  /** Charges memory growth to cover [offset, offset + size) (size > 0), and grows the buffer. */
  const touch = (offset: bigint, size: bigint): number => {
    const end = offset + size
    if (end > MAX_MEMORY) throw new Unsupported('out of gas (memory)')
    const start = Number(offset)
    const words = Math.ceil(Number(end) / 32)
    if (words > memWords) {
      gas -= words * 3 + Math.floor((words * words) / 512) - (memWords * 3 + Math.floor((memWords * memWords) / 512))
      if (gas < 0) throw new Unsupported('out of gas (memory)')
      memWords = words
      if (words * 32 > mem.length) {
        const grown = Buffer.alloc(Math.max(words * 32, mem.length * 2))
        mem.copy(grown)
        mem = grown
        memView = new DataView(mem.buffer, mem.byteOffset, mem.length)
      }
    }
    return start
  }
  const copyCost = (size: bigint): void => {
    gas -= 3 * Math.ceil(Number(size) / 32)
    if (gas < 0) throw new Unsupported('out of gas (copy)')
  }
  /** Copies `src[from, from + size)` (zero past its end) to memory at `to` (already touched). */
  const copyIn = (src: Uint8Array, to: number, from: bigint, size: number): void => {
    const start = from > BigInt(src.length) ? src.length : Number(from)
    const n = Math.min(size, src.length - start)
    if (n > 0) mem.set(src.subarray(start, start + n), to)
    if (n < size) mem.fill(0, to + Math.max(n, 0), to + size)
  }
  const pop = (): bigint => {
    const v = stack.pop()
    if (v === undefined) throw new Unsupported('stack underflow')
    return v
  }
  const push = (v: bigint): void => {
    if (stack.length >= STACK_LIMIT) throw new Unsupported('stack overflow')
    stack.push(v)
  }
  const halt = (kind: 'return' | 'revert'): FrameEnd => {
    const offset = pop()
    const size = pop()
    let output = new Uint8Array(0)
    if (size > 0n) {
      const at = touch(offset, size)
      output = Uint8Array.prototype.slice.call(mem, at, at + Number(size))
    }
    return { kind, output, gasLeft: gas }
  }
  /**
   * STATICCALL and DELEGATECALL to a contract: its account charged as a cold access (EIP-2929's
   * most), memory for the input and the output, all but a 64th of the gas left at most (EIP-150).
   * A callee that reverts returns 0 here, with its revert data as the return data; any other end
   * but RETURN or STOP is unsupported (thrown from the frame).
   */
  const call = (delegate: boolean): void => {
    const asked = pop()
    const { address: target, extra } = accessAccount(scope, pop())
    const inOffset = pop()
    const inSize = pop()
    const outOffset = pop()
    const outSize = pop()
    gas -= extra
    if (gas < 0) throw new Unsupported('out of gas (call)')
    const inAt = inSize > 0n ? touch(inOffset, inSize) : 0
    const outAt = outSize > 0n ? touch(outOffset, outSize) : 0
    if (frame.depth >= 1024) throw new Unsupported('call depth')
    const most = gas - Math.floor(gas / 64)
    const given = asked < BigInt(most) ? Number(asked) : most
    gas -= given
    const checkpoint = scope.accessed.length
    const end = runFrame(scope, {
      codeAddress: target,
      address: delegate ? frame.address : target,
      caller: delegate ? frame.caller : frame.address,
      data: inSize > 0n ? Uint8Array.prototype.slice.call(mem, inAt, inAt + Number(inSize)) : new Uint8Array(0),
      gas: given,
      depth: frame.depth + 1,
    })
    gas += end.gasLeft
    returned = end.output
    if (end.kind === 'revert') {
      // The callee's accesses are undone with it (EIP-2929).
      for (const key of scope.accessed.splice(checkpoint)) scope.warm.delete(key)
    }
    const n = Math.min(Number(outSize > BigInt(MAX_MEMORY) ? MAX_MEMORY : outSize), returned.length)
    if (n > 0) mem.set(returned.subarray(0, n), outAt)
    push(end.kind === 'return' ? 1n : 0n)
  }

  let pc = 0
  // The first memory goes back to the spares however the frame ends (a return, or a throw the caller hands to the EVM).
  try {
    for (;;) {
      if (pc >= code.length) return { kind: 'return', output: new Uint8Array(0), gasLeft: gas }
      const op = code[pc] as number
      const cost = STATIC_GAS[op] as number
      if (cost === 0xffff) throw new Unsupported(`opcode 0x${op.toString(16).padStart(2, '0')}`)
      gas -= cost
      if (gas < 0) throw new Unsupported('out of gas')
      pc++
      if (op >= 0x60 && op <= 0x7f) {
        push(pushes[pc - 1] as bigint)
        pc += op - 0x5f
        continue
      }
      if (op >= 0x80 && op <= 0x8f) {
        const v = stack[stack.length - (op - 0x7f)]
        if (v === undefined) throw new Unsupported('stack underflow')
        push(v)
        continue
      }
      if (op >= 0x90 && op <= 0x9f) {
        const top = stack.length - 1
        const other = top - (op - 0x8f)
        if (other < 0) throw new Unsupported('stack underflow')
        const v = stack[top] as bigint
        stack[top] = stack[other] as bigint
        stack[other] = v
        continue
      }
      switch (op) {
        case 0x00:
          return { kind: 'return', output: new Uint8Array(0), gasLeft: gas }
        case 0x01:
          push((pop() + pop()) & WORD_MASK)
          break
        case 0x02:
          push((pop() * pop()) & WORD_MASK)
          break
        case 0x03: {
          const a = pop()
          push(toWord(a - pop()))
          break
        }
        case 0x04: {
          const a = pop()
          const b = pop()
          push(b === 0n ? 0n : a / b)
          break
        }
        case 0x05: {
          const a = pop()
          const b = pop()
          push(b === 0n ? 0n : toWord(toSigned(a) / toSigned(b)))
          break
        }
        case 0x06: {
          const a = pop()
          const b = pop()
          push(b === 0n ? 0n : a % b)
          break
        }
        case 0x07: {
          const a = pop()
          const b = pop()
          push(b === 0n ? 0n : toWord(toSigned(a) % toSigned(b)))
          break
        }
        case 0x08: {
          const a = pop()
          const b = pop()
          const n = pop()
          push(n === 0n ? 0n : (a + b) % n)
          break
        }
        case 0x09: {
          const a = pop()
          const b = pop()
          const n = pop()
          push(n === 0n ? 0n : (a * b) % n)
          break
        }
        case 0x0a: {
          const base = pop()
          const exponent = pop()
          gas -= 50 * byteLength(exponent)
          if (gas < 0) throw new Unsupported('out of gas (EXP)')
          push(expWord(base, exponent))
          break
        }
        case 0x0b: {
          const b = pop()
          push(signExtend(b, pop()))
          break
        }
        case 0x10: {
          const a = pop()
          const b = pop()
          push(a < b ? 1n : 0n)
          break
        }
        case 0x11: {
          const a = pop()
          const b = pop()
          push(a > b ? 1n : 0n)
          break
        }
        case 0x12: {
          const a = pop()
          const b = pop()
          push(toSigned(a) < toSigned(b) ? 1n : 0n)
          break
        }
        case 0x13: {
          const a = pop()
          const b = pop()
          push(toSigned(a) > toSigned(b) ? 1n : 0n)
          break
        }
        case 0x14: {
          const a = pop()
          const b = pop()
          push(a === b ? 1n : 0n)
          break
        }
        case 0x15:
          push(pop() === 0n ? 1n : 0n)
          break
        case 0x16:
          push(pop() & pop())
          break
        case 0x17:
          push(pop() | pop())
          break
        case 0x18:
          push(pop() ^ pop())
          break
        case 0x19:
          push(WORD_MASK ^ pop())
          break
        case 0x1a: {
          const i = pop()
          const x = pop()
          push(i >= 32n ? 0n : (x >> (8n * (31n - i))) & 0xffn)
          break
        }
        case 0x1b: {
          const shift = pop()
          const v = pop()
          push(shift >= 256n ? 0n : (v << shift) & WORD_MASK)
          break
        }
        case 0x1c: {
          const shift = pop()
          const v = pop()
          push(shift >= 256n ? 0n : v >> shift)
          break
        }
        case 0x1d: {
          const shift = pop()
          const v = toSigned(pop())
          push(toWord(v >> (shift >= 256n ? 255n : shift)))
          break
        }
        case 0x20: {
          const offset = pop()
          const size = pop()
          gas -= 6 * Math.ceil(Number(size > BigInt(MAX_MEMORY) ? MAX_MEMORY : size) / 32)
          if (gas < 0) throw new Unsupported('out of gas (KECCAK256)')
          let bytes = new Uint8Array(0)
          if (size > 0n) {
            const at = touch(offset, size)
            bytes = mem.subarray(at, at + Number(size))
          }
          const hash = input.keccak256(bytes)
          push(bytesToBigInt(hash))
          break
        }
        case 0x30:
          push(bytesToBigInt(frame.address.bytes))
          break
        case 0x32:
          push(bytesToBigInt(input.caller.bytes))
          break
        case 0x33:
          push(bytesToBigInt(frame.caller.bytes))
          break
        case 0x34: // CALLVALUE: no value is sent (DELEGATECALL keeps its caller's: none)
        case 0x3a: // GASPRICE: the call pays none
        case 0x48: // BASEFEE: 0 for a call that pays no gas price
          push(0n)
          break
        case 0x3d:
          push(BigInt(returned.length))
          break
        case 0x3b: {
          const { address: other, extra } = accessAccount(scope, pop())
          gas -= extra
          if (gas < 0) throw new Unsupported('out of gas (EXTCODESIZE)')
          const theirs = codeNow(input, other)
          if (theirs[0] === 0xef) throw new Unsupported('EXTCODESIZE of delegation or EOF code')
          push(BigInt(theirs.length))
          break
        }
        case 0x35: {
          const i = pop()
          push(i >= BigInt(data.length) ? 0n : readWord(dataView, Number(i)))
          break
        }
        case 0x36:
          push(BigInt(data.length))
          break
        case 0x37:
        case 0x39: {
          const to = pop()
          const from = pop()
          const size = pop()
          if (size > 0n) {
            const at = touch(to, size)
            copyCost(size)
            copyIn(op === 0x37 ? data : code, at, from, Number(size))
          }
          break
        }
        case 0x38:
          push(BigInt(code.length))
          break
        case 0x3e: {
          const to = pop()
          const from = pop()
          const size = pop()
          // Past the end of the return data is an exceptional halt (EIP-211).
          if (from + size > BigInt(returned.length)) throw new Unsupported('return data out of bounds')
          if (size > 0n) {
            const at = touch(to, size)
            copyCost(size)
            mem.set(returned.subarray(Number(from), Number(from + size)), at)
          }
          break
        }
        case 0x41:
          push(bytesToBigInt(block.coinbase))
          break
        case 0x42:
          push(block.timestamp)
          break
        case 0x43:
          push(block.number)
          break
        case 0x45:
          push(block.gasLimit)
          break
        case 0x46:
          push(block.chainId)
          break
        case 0x50:
          pop()
          break
        case 0x51: {
          const at = touch(pop(), 32n)
          push(readWord(memView, at))
          break
        }
        case 0x52: {
          const at = touch(pop(), 32n)
          writeWord(memView, at, pop())
          break
        }
        case 0x53: {
          const at = touch(pop(), 1n)
          mem[at] = Number(pop() & 0xffn)
          break
        }
        case 0x54: {
          const key = wordHex(pop())
          const access = storageKey + key
          if (!scope.warm.has(access)) {
            scope.warm.add(access)
            scope.accessed.push(access)
            gas -= COLD_SLOT
            if (gas < 0) throw new Unsupported('out of gas (SLOAD)')
          }
          let v = slots.get(key)
          if (v === undefined) {
            const slot = Buffer.from(key, 'hex')
            const read = readSlot(slot)
            if (read === undefined) throw new NotAtHand(frame.address, slot)
            v = bytesToBigInt(read)
            slots.set(key, v)
          }
          push(v)
          break
        }
        case 0x56: {
          pc = jumpTo(pop(), jumpdests)
          break
        }
        case 0x57: {
          const dest = pop()
          if (pop() !== 0n) pc = jumpTo(dest, jumpdests)
          break
        }
        case 0x59:
          push(BigInt(memWords * 32))
          break
        case 0x5a:
          push(BigInt(gas))
          break
        case 0x5b:
          break
        case 0x5e: {
          const to = pop()
          const from = pop()
          const size = pop()
          if (size > 0n) {
            const src = touch(from, size)
            const dst = touch(to, size)
            copyCost(size)
            mem.copyWithin(dst, src, src + Number(size))
          }
          break
        }
        case 0x5f:
          push(0n)
          break
        case 0xf4:
          call(true)
          break
        case 0xfa:
          call(false)
          break
        case 0xf3:
          return halt('return')
        case 0xfd:
          return halt('revert')
        default:
          throw new Unsupported(`opcode 0x${op.toString(16).padStart(2, '0')}`)
      }
    }
  } finally {
    releaseMemory(mem, memWords * 32)
  }
}

function jumpTo(dest: bigint, jumpdests: Uint8Array): number {
  if (dest >= BigInt(jumpdests.length) || jumpdests[Number(dest)] !== 1) throw new Unsupported('invalid jump')
  return Number(dest)
}
