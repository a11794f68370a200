import type { StateReader } from '@cairn/chain'
import { bytesToHex, CairnError, equalsBytes, type Hex } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import type { VM } from '@ethereumjs/vm'
import { LRUCache } from 'lru-cache'
import type { RpcContext } from './context.ts'
import { RpcErrorCode } from './errors.ts'

/** A VM for calls at one block, with the deadline its time-limit listener checks. */
export interface CallVm {
  vm: VM
  /** The state it executes on top of ({@link stateKey}). */
  key: string
  /** `Date.now()` past which a starting message aborts the call (set per call). */
  deadline: number
  /** False once something was left in it (state overrides, a call aborted mid-way): not pooled. */
  reusable: boolean
}

/** The intrinsic gas of a call, the least gas limit it needs (intrinsic, or the EIP-7623 floor), and that floor. */
export interface CallGas {
  intrinsic: bigint
  minimumGas: bigint
  /** The EIP-7623 calldata floor (0 before Prague). */
  floor: bigint
}

/**
 * Pooled VMs per block (busy or idle), and blocks whose idle VMs are kept (the head and the one
 * before, as the head moves). Calls run on one thread, so more VMs than this add no throughput:
 * past it a call waits for a VM to come back instead of creating one.
 */
const PER_BLOCK = 4
const BLOCKS = 2

/**
 * VMs for `eth_call` and `eth_estimateGas`, reused across calls at the same block. Creating one
 * (`createVM`: opcode tables, precompiles, EVM set-up) cost more than the call itself. A borrowed
 * VM is exclusive until released, so concurrent calls never share a journal; a call runs inside a
 * state checkpoint that is reverted at its end (see `withCall`), and the VM's state reads go
 * through the shared read view of its block (`StateReader.vmAt`), so they stay cached across calls.
 * The time limit is one long-lived `beforeMessage` listener per VM reading the call's deadline.
 *
 * At most `PER_BLOCK` pooled VMs exist per block: with 16 concurrent `eth_call`s, creating a VM for
 * each caller that found none idle (and dropping all but 4 afterwards) cost more than the calls.
 * Past the cap a caller queues (first come, first served) for the next VM released at its block.
 */
export class CallVmPool {
  private readonly idle = new Map<string, CallVm[]>()
  /** Pooled VMs handed out and not yet released, per block. */
  private readonly busy = new Map<string, number>()
  /** Callers waiting for a pooled VM, per block: handed one, or undefined to make their own. */
  private readonly waiting = new Map<string, ((cv: CallVm | undefined) => void)[]>()
  /** VMs handed out by {@link acquire} (counted in `busy` until released). */
  private readonly pooled = new WeakSet<CallVm>()
  /** Intrinsic and minimum gas by call shape: building a transaction to ask cost ~45 µs a call. */
  private readonly gas = new LRUCache<string, CallGas>({ max: 1024 })

  constructor(private readonly ctx: RpcContext) {}

  /** A fresh VM, never shared with another call unless released and reusable. */
  async create(block: Block, common?: Common): Promise<CallVm> {
    const vm = await this.ctx.chain.vmAt(block.header, common)
    // A VM under other rules than the block's (the next block's fork) is never kept for the block.
    const cv: CallVm = { vm, key: stateKey(this.ctx, block), deadline: Number.POSITIVE_INFINITY, reusable: !common }
    vm.evm.events?.on('beforeMessage', () => {
      if (Date.now() > cv.deadline) throw timeoutError(this.ctx)
    })
    return cv
  }

  /** An idle VM for `block`, a new one while the block has fewer than `PER_BLOCK`, else the next one released. */
  async acquire(block: Block): Promise<CallVm> {
    const key = stateKey(this.ctx, block)
    const busy = this.busy.get(key) ?? 0
    const idle = this.idle.get(key)?.pop()
    if (idle || busy < PER_BLOCK) {
      this.busy.set(key, busy + 1)
      try {
        const cv = idle ?? (await this.create(block))
        this.pooled.add(cv)
        return cv
      } catch (err) {
        this.returned(key)
        throw err
      }
    }
    const handed = await new Promise<CallVm | undefined>((resolve) => {
      const queue = this.waiting.get(key) ?? []
      queue.push(resolve)
      this.waiting.set(key, queue)
    })
    return handed ?? this.acquire(block)
  }

  /** Returns a VM: to the next caller waiting at its block, else kept idle when it is clean and there is room. */
  release(cv: CallVm): void {
    if (this.pooled.has(cv)) {
      this.pooled.delete(cv)
      this.returned(cv.key, cv.reusable ? cv : undefined)
      return
    }
    this.keep(cv)
  }

  /** A pooled VM is back (or failed to be made): a waiter gets it, or a new one in its place. */
  private returned(key: string, cv?: CallVm): void {
    const next = this.waiting.get(key)?.shift()
    if (this.waiting.get(key)?.length === 0) this.waiting.delete(key)
    if (next && cv) {
      // Straight to the next caller: still counted busy.
      cv.deadline = Number.POSITIVE_INFINITY
      this.pooled.add(cv)
      next(cv)
      return
    }
    const busy = (this.busy.get(key) ?? 1) - 1
    if (busy > 0) this.busy.set(key, busy)
    else this.busy.delete(key)
    if (next)
      next(undefined) // the VM is spoilt (an aborted call): the waiter makes a new one
    else if (cv) this.keep(cv)
  }

  /** Keeps a clean VM idle for the next call at its block, when there is room. */
  private keep(cv: CallVm): void {
    if (!cv.reusable) return
    cv.deadline = Number.POSITIVE_INFINITY
    const list = this.idle.get(cv.key) ?? []
    if (list.length >= PER_BLOCK) return
    list.push(cv)
    this.idle.delete(cv.key)
    this.idle.set(cv.key, list)
    while (this.idle.size > BLOCKS) this.idle.delete(this.idle.keys().next().value as string)
  }

  /** The gas figures of a call shape (`key`: see exec.ts), computed once per shape. */
  gasOf(key: string, compute: () => CallGas): CallGas {
    let g = this.gas.get(key)
    if (!g) {
      g = compute()
      this.gas.set(key, g)
    }
    return g
  }

  /** VMs kept idle now (for tests). */
  get idleCount(): number {
    let n = 0
    for (const list of this.idle.values()) n += list.length
    return n
  }
}

/**
 * What a call at `block` runs on: the block's hash, and on a dev chain whose head was edited
 * without a block (anvil_setBalance and kin: `StateReader.postStateRoot`) the edited state root too.
 * Call VMs and remembered call outcomes are kept per key, so an edit is never hidden by either.
 */
export function stateKey(ctx: { chain: StateReader }, block: Block): Hex {
  const hash = bytesToHex(block.hash())
  const root = ctx.chain.postStateRoot(block.header)
  return equalsBytes(root, block.header.stateRoot) ? hash : `${hash}/${bytesToHex(root)}`
}

const pools = new WeakMap<RpcContext, CallVmPool>()

/** The pool of a context (one per RPC context, created on first use). */
export function callVms(ctx: RpcContext): CallVmPool {
  let pool = pools.get(ctx)
  if (!pool) {
    pool = new CallVmPool(ctx)
    pools.set(ctx, pool)
  }
  return pool
}

/** The -32002 error of a call or trace that ran past `limits.evmTimeoutMs`. */
export function timeoutError(ctx: RpcContext): CairnError {
  return new CairnError(RpcErrorCode.TIMEOUT, `execution aborted (timeout = ${ctx.limits.evmTimeoutMs / 1000}s)`, {
    fault: 'caller',
    hint: 'the call ran longer than the node allows; lower its gas or split the work',
  })
}
