import { hexToBytes } from '@cairn/utils'
import type { EVMResult, InterpreterStep, Message } from '@ethereumjs/evm'
import { bigIntToBytes, setLengthLeft } from '@ethereumjs/util'
import type { VM } from '@ethereumjs/vm'

/** A log as a simulated call reports it, before its block's hash is known. */
export interface SimLog {
  address: Uint8Array
  topics: Uint8Array[]
  data: Uint8Array
  /** Index in the block (geth counts every log emitted, also those a revert later drops). */
  index: number
}

/** ERC-7528: the pseudo-address of ETH transfers, and the ERC-20 Transfer event's topic. */
const TRANSFER_ADDRESS = hexToBytes('0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee')
const TRANSFER_TOPIC = hexToBytes('0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef')

/**
 * The logs of simulated calls with eth_simulateV1's `traceTransfers`: every value transfer (a
 * CALL or CREATE with value, not DELEGATECALL or CALLCODE) becomes an ERC-7528 Transfer log in
 * order with the real ones, as geth's simulation tracer does. Logs of a frame that fails are
 * dropped with it. Listens to the private VM's `step` (LOG opcodes), `beforeMessage`,
 * `newContract` and `afterMessage` events.
 */
export class SimLogTracer {
  private frames: SimLog[][] = []
  private count = 0
  /** A CREATE with value whose address is known only at `newContract`. */
  private pendingCreate: { from: Uint8Array; value: bigint } | undefined

  /** Listens to a VM's EVM (one per fork a simulation crosses; all share this tracer's state). */
  attach(vm: VM): void {
    const events = vm.evm.events
    if (!events) return
    events.on('beforeMessage', (m: Message) => this.enter(m))
    events.on('newContract', (e: { address: { bytes: Uint8Array } }) => {
      const p = this.pendingCreate
      this.pendingCreate = undefined
      if (p) this.transfer(p.from, e.address.bytes, p.value)
    })
    events.on('afterMessage', (r: EVMResult) => this.exit(r))
    events.on('step', (e: InterpreterStep) => {
      if (e.opcode.name.startsWith('LOG')) this.log(e)
      else if (e.opcode.name === 'SELFDESTRUCT') this.selfDestruct(e)
    })
  }

  /** Starts a new block: log indices count from 0. */
  startBlock(): void {
    this.count = 0
  }

  /** Starts a new call. */
  startCall(): void {
    this.frames = []
  }

  /** The logs the call kept (none if it failed). */
  logs(): SimLog[] {
    return this.frames[0] ?? []
  }

  private enter(m: Message): void {
    this.frames.push([])
    if (m.delegatecall || m.value <= 0n) return
    const from = m.caller.bytes
    if (m.to === undefined) {
      this.pendingCreate = { from, value: m.value }
      return
    }
    // CALLCODE runs another account's code in the caller's own frame: no transfer between accounts.
    if (m.codeAddress !== undefined && !m.codeAddress.equals(m.to) && m.to.equals(m.caller)) return
    this.transfer(from, m.to.bytes, m.value)
  }

  private exit(r: EVMResult): void {
    const failed = r.execResult.exceptionError !== undefined
    if (this.frames.length <= 1) {
      if (failed) this.frames[0] = []
      return
    }
    const frame = this.frames.pop() as SimLog[]
    if (!failed) (this.frames[this.frames.length - 1] as SimLog[]).push(...frame)
  }

  private log(e: InterpreterStep): void {
    const n = Number(e.opcode.name.slice(3))
    const s = e.stack
    const at = (i: number) => s[s.length - 1 - i] as bigint
    const offset = Number(at(0))
    const size = Number(at(1))
    const topics: Uint8Array[] = []
    for (let i = 0; i < n; i++) topics.push(setLengthLeft(bigIntToBytes(at(2 + i)), 32))
    const data = new Uint8Array(size)
    data.set(e.memory.subarray(offset, offset + size))
    this.push({ address: e.address.bytes, topics, data })
  }

  /** SELFDESTRUCT sends the account's whole balance to the beneficiary (geth enters a SELFDESTRUCT frame with it). */
  private selfDestruct(e: InterpreterStep): void {
    const balance = e.account.balance
    if (balance <= 0n) return
    const beneficiary = setLengthLeft(bigIntToBytes(e.stack[e.stack.length - 1] as bigint), 20)
    this.transfer(e.address.bytes, beneficiary, balance)
  }

  private transfer(from: Uint8Array, to: Uint8Array, value: bigint): void {
    this.push({
      address: TRANSFER_ADDRESS,
      topics: [TRANSFER_TOPIC, setLengthLeft(from, 32), setLengthLeft(to, 32)],
      data: setLengthLeft(bigIntToBytes(value), 32),
    })
  }

  private push(log: Omit<SimLog, 'index'>): void {
    const frame = this.frames[this.frames.length - 1]
    if (!frame) return
    frame.push({ ...log, index: this.count++ })
  }
}
