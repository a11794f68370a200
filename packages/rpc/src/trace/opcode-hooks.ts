import type { InterpreterStep } from '@ethereumjs/evm'

/**
 * Per-opcode hooks for tracers that need only a few opcodes (callTracer: the calls, creations,
 * self-destructs and logs; prestateTracer: the state reads; 4byteTracer: the calls). A `step`
 * listener on the EVM makes every opcode build an event (a copy of the stack and of the memory)
 * and await it, and keeps every opcode off the interpreter's synchronous path: most of a traced
 * ERC-20 transfer's time. Instead, the EVM's opcode table is swapped for one whose entries for
 * those opcodes call the tracer first (after the opcode's gas is charged, before it runs: the
 * stack and memory are still the opcode's inputs) and every other opcode runs as without a tracer.
 *
 * The hooked table is made once per EVM and kept with it (the jump-destination analyses are
 * cached per table), and hooks nothing while no tracer is attached.
 */

/** What a hook sees: the step event's fields a tracer reads (stack and memory copied on first read). */
export type HookStep = Pick<
  InterpreterStep,
  'opcode' | 'stack' | 'memory' | 'address' | 'account' | 'stateManager' | 'depth' | 'pc'
>

export interface OpcodeHooks {
  /** The opcodes (full names: LOG1, not LOG) the tracer reads, before each runs. */
  ops: ReadonlySet<string>
  step?(e: InterpreterStep): void
  stepAsync?(e: InterpreterStep): Promise<void> | undefined
  /** Called every 256 jumps (a loop inside one frame): throws to abort. */
  guard(): void
}

interface Entry {
  opcodeInfo: { fullName: string; isAsync: boolean }
  opHandler: (runState: RunState, common: unknown) => unknown
  gasHandler?: unknown
}

interface RunState {
  programCounter: number
  memoryWordCount: bigint
  stack: { getStack(): bigint[] }
  memory: { read(offset: number, size: number): Uint8Array }
  stateManager: unknown
  interpreter: { getAddress(): unknown; _env: { contract: unknown; depth: number } }
}

interface EvmTables {
  _opcodeMap: Entry[]
}

interface Hooked {
  original: Entry[]
  wrapped: Entry[]
  current: OpcodeHooks | undefined
  jumps: number
}

/** Opcodes a tracer may hook, and the jumps that carry the time limit. */
const HOOKABLE = new Set([
  'CALL',
  'CALLCODE',
  'DELEGATECALL',
  'STATICCALL',
  'CREATE',
  'CREATE2',
  'SELFDESTRUCT',
  'LOG0',
  'LOG1',
  'LOG2',
  'LOG3',
  'LOG4',
  'SLOAD',
  'SSTORE',
  'BALANCE',
  'EXTCODESIZE',
  'EXTCODECOPY',
  'EXTCODEHASH',
])
const JUMPS = new Set(['JUMP', 'JUMPI'])

const hookedByEvm = new WeakMap<object, Hooked>()

function stepOf(name: string, runState: RunState): InterpreterStep {
  const env = runState.interpreter._env
  let stack: bigint[] | undefined
  let memory: Uint8Array | undefined
  const step = {
    opcode: { name },
    pc: runState.programCounter - 1,
    address: runState.interpreter.getAddress(),
    account: env.contract,
    depth: env.depth,
    stateManager: runState.stateManager,
    get stack() {
      stack ??= runState.stack.getStack()
      return stack
    },
    get memory() {
      memory ??= runState.memory.read(0, Number(runState.memoryWordCount) * 32)
      return memory
    },
  }
  return step as unknown as InterpreterStep
}

function wrap(h: Hooked, entry: Entry): Entry {
  const name = entry.opcodeInfo.fullName
  const run = entry.opHandler
  if (JUMPS.has(name)) {
    return {
      ...entry,
      opHandler: (runState, common) => {
        const c = h.current
        if (c && (++h.jumps & 0xff) === 0) c.guard()
        return run(runState, common)
      },
    }
  }
  if (!HOOKABLE.has(name)) return entry
  if (entry.opcodeInfo.isAsync) {
    return {
      ...entry,
      opHandler: async (runState, common) => {
        const c = h.current
        if (c?.ops.has(name)) {
          const e = stepOf(name, runState)
          c.step?.(e)
          const wait = c.stepAsync?.(e)
          if (wait) await wait
        }
        return run(runState, common)
      },
    }
  }
  return {
    ...entry,
    opHandler: (runState, common) => {
      const c = h.current
      if (c?.ops.has(name)) c.step?.(stepOf(name, runState))
      return run(runState, common)
    },
  }
}

/**
 * Hooks `hooks` into `evm`'s opcodes; returns what unhooks them, or undefined when the hooks
 * cannot be kept (an opcode the tracer must await runs synchronously in this EVM, or the EVM has
 * no opcode table as expected): then the caller listens to every step instead.
 */
export function hookOpcodes(evm: object, hooks: OpcodeHooks): (() => void) | undefined {
  const tables = evm as EvmTables
  if (!Array.isArray(tables._opcodeMap)) return undefined
  let h = hookedByEvm.get(evm)
  if (!h) {
    const state: Hooked = { original: tables._opcodeMap, wrapped: [], current: undefined, jumps: 0 }
    state.wrapped = state.original.map((entry) => wrap(state, entry))
    h = state
    hookedByEvm.set(evm, h)
  }
  if (hooks.stepAsync) {
    for (const e of h.original) {
      if (hooks.ops.has(e.opcodeInfo.fullName) && !e.opcodeInfo.isAsync) return undefined
    }
  }
  const hooked = h
  hooked.current = hooks
  hooked.jumps = 0
  tables._opcodeMap = hooked.wrapped
  return () => {
    hooked.current = undefined
    tables._opcodeMap = hooked.original
  }
}
