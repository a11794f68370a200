import type { EVMResult, InterpreterStep, Message } from '@ethereumjs/evm'
import type { VM } from '@ethereumjs/vm'
import { hookOpcodes } from './opcode-hooks.ts'

/** What a tracer listens to: the EVM's per-opcode and per-message events of one private VM. */
export interface Tracer {
  step?(e: InterpreterStep): void
  beforeMessage?(m: Message): void
  afterMessage?(r: EVMResult): void
  /**
   * Per opcode, awaited before the opcode runs (a tracer that reads state: prestateTracer). A
   * promise only where it has something to read; each awaited step costs a turn of microtasks.
   */
  stepAsync?(e: InterpreterStep): Promise<void> | undefined
  /** After each message, awaited (reads the state the message left). */
  afterMessageAsync?(r: EVMResult): Promise<void> | undefined
  /**
   * The only opcodes whose steps it reads (full names, LOG1 not LOG): they are hooked in the EVM's
   * opcode table instead of listening to every step (opcode-hooks.ts). Absent: every step.
   */
  ops?: ReadonlySet<string>
}

/**
 * Registers `tracer` on the VM's EVM events; returns what removes it (a replay's VM is kept for
 * the next trace). `guard` runs every 256 opcodes (every 256 jumps for a tracer of a few opcodes)
 * and at every message; it throws to abort (the time limit).
 */
export function attachTracer(vm: VM, tracer: Tracer, guard: () => void): () => void {
  const events = vm.evm.events
  if (!events) return () => {}
  const added: [string, (...args: never[]) => void][] = []
  const on = <A extends unknown[]>(event: string, listener: (...args: A) => void) => {
    events.on(event as 'step', listener as never)
    added.push([event, listener as never])
  }
  // The few opcodes it reads, hooked (the others run as without a tracer); else every step.
  const unhook = tracer.ops
    ? hookOpcodes(vm.evm, {
        ops: tracer.ops,
        ...(tracer.step ? { step: tracer.step.bind(tracer) } : {}),
        ...(tracer.stepAsync ? { stepAsync: tracer.stepAsync.bind(tracer) } : {}),
        guard,
      })
    : undefined
  // One-argument listeners: the EVM calls them synchronously and an exception aborts the run.
  let steps = 0
  const step = tracer.step?.bind(tracer)
  if (!unhook) {
    on('step', (e: InterpreterStep) => {
      if ((++steps & 0xff) === 0) guard()
      step?.(e)
    })
  }
  const before = tracer.beforeMessage?.bind(tracer)
  on('beforeMessage', (m: Message) => {
    guard()
    before?.(m)
  })
  if (tracer.afterMessage) {
    const after = tracer.afterMessage.bind(tracer)
    on('afterMessage', (r: EVMResult) => after(r))
  }
  // Two-argument listeners: the EVM awaits them (their second argument resolves the wait). A
  // failure is the tracer's to report (from its result): the wait always ends.
  if (tracer.stepAsync && !unhook) {
    const stepAsync = tracer.stepAsync.bind(tracer)
    on('step', (e: InterpreterStep, resolve?: () => void) => {
      const p = stepAsync(e)
      if (p) p.then(resolve, resolve)
      else resolve?.()
    })
  }
  if (tracer.afterMessageAsync) {
    const afterAsync = tracer.afterMessageAsync.bind(tracer)
    on('afterMessage', (r: EVMResult, resolve?: () => void) => {
      const p = afterAsync(r)
      if (p) p.then(resolve, resolve)
      else resolve?.()
    })
  }
  return () => {
    unhook?.()
    for (const [event, listener] of added) events.off(event as 'step', listener as never)
  }
}

/** geth's wording for the EVM's errors, as its tracers print them. */
export function gethError(error: string, op?: string): string {
  switch (error) {
    case 'revert':
      return 'execution reverted'
    case 'invalid opcode':
      return op ? `invalid opcode: ${op}` : 'invalid opcode'
    case 'invalid JUMP':
      return 'invalid jump destination'
    case 'static state change':
      return 'write protection'
    case 'code store out of gas':
      return 'contract creation code storage out of gas'
    default:
      return error
  }
}
