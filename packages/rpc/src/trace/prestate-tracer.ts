import { bytesToHex, toQuantity } from '@cairn/utils'
import type { EVMResult, InterpreterStep, Message } from '@ethereumjs/evm'
import { Address, bigIntToBytes, generateAddress, generateAddress2, setLengthLeft } from '@ethereumjs/util'
import type { Tracer } from './tracer.ts'

/** geth's prestateTracer options (`tracerConfig`). */
export interface PrestateTracerConfig {
  diffMode?: boolean | undefined
  disableCode?: boolean | undefined
  disableStorage?: boolean | undefined
}

/** What the tracer reads state through: the traced VM's state manager. */
export interface StateView {
  getAccount(a: Address): Promise<{ balance: bigint; nonce: bigint } | undefined>
  getCode(a: Address): Promise<Uint8Array>
  getStorage(a: Address, key: Uint8Array): Promise<Uint8Array>
}

interface AccountState {
  balance: bigint
  nonce: bigint
  code: Uint8Array
  /** Slot (32-byte hex) → value (32-byte hex). */
  storage: Map<string, string>
  /** Nothing there before (no balance, nonce, code or storage): a created account's pre-state. */
  empty: boolean
}

const ZERO_WORD = `0x${'00'.repeat(32)}`

const READ_OPS: ReadonlySet<string> = new Set([
  'SLOAD',
  'SSTORE',
  'BALANCE',
  'EXTCODESIZE',
  'EXTCODECOPY',
  'EXTCODEHASH',
  'SELFDESTRUCT',
  'CALL',
  'CALLCODE',
  'DELEGATECALL',
  'STATICCALL',
  'CREATE',
  'CREATE2',
])

const word = (n: bigint): string => `0x${n.toString(16).padStart(64, '0')}`
const addressOf = (n: bigint): Address => new Address(setLengthLeft(bigIntToBytes(n), 32).subarray(12))

/**
 * geth's `prestateTracer`: every account the transaction touched, as it was before (balance,
 * nonce, code, the storage slots it read or wrote); with `diffMode`, `{pre, post}` holding only
 * what changed (slots that changed, fields that changed). Accounts are read the first time the
 * execution touches them (the sender, recipient and coinbase before it starts), awaited before the
 * opcode that touches them runs, so what is read is the state the transaction found.
 */
export class PrestateTracer implements Tracer {
  private readonly pre = new Map<string, AccountState>()
  private readonly created = new Set<string>()
  private readonly deleted = new Set<string>()
  private post: Map<string, AccountState> | undefined
  private depth = 0
  private failure: unknown
  private state: StateView | undefined
  /** The opcodes whose state it reads before they run. */
  readonly ops: ReadonlySet<string> = READ_OPS

  constructor(private readonly config: PrestateTracerConfig) {}

  /** Reads the accounts touched before the first opcode (sender, recipient, coinbase). */
  async begin(state: StateView, parties: (Address | undefined)[]): Promise<void> {
    this.state = state
    for (const a of parties) if (a) await this.account(state, a)
  }

  beforeMessage(_m: Message): void {
    this.depth++
  }

  stepAsync(e: InterpreterStep): Promise<void> | undefined {
    const s = e.stack
    const top = (i: number) => s[s.length - 1 - i] ?? 0n
    const state = e.stateManager as unknown as StateView
    switch (e.opcode.name) {
      case 'SLOAD':
      case 'SSTORE':
        return this.guarded(() => this.slot(state, e.address, word(top(0))))
      case 'BALANCE':
      case 'EXTCODESIZE':
      case 'EXTCODECOPY':
      case 'EXTCODEHASH':
        return this.guarded(() => this.touch(state, addressOf(top(0))))
      case 'SELFDESTRUCT':
        this.deleted.add(e.address.toString())
        return this.guarded(() => this.touch(state, addressOf(top(0))))
      case 'CALL':
      case 'CALLCODE':
      case 'DELEGATECALL':
      case 'STATICCALL':
        return this.guarded(() => this.touch(state, addressOf(top(1))))
      case 'CREATE':
        return this.guarded(async () => {
          const nonce = (await state.getAccount(e.address))?.nonce ?? 0n
          await this.createdAt(state, new Address(generateAddress(e.address.bytes, bigIntToBytes(nonce))))
        })
      case 'CREATE2': {
        // generateAddress2 hashes the init code itself.
        const offset = Number(top(1))
        const size = Number(top(2))
        const init = new Uint8Array(size)
        init.set(e.memory.subarray(offset, offset + size))
        const salt = setLengthLeft(bigIntToBytes(top(3)), 32)
        return this.guarded(() => this.createdAt(state, new Address(generateAddress2(e.address.bytes, salt, init))))
      }
      default:
        return undefined
    }
  }

  /** The transaction's own creation (a call without `to`): its address, once known. */
  afterMessage(r: EVMResult): void {
    this.depth--
    if (this.depth === 0 && r.createdAddress) this.created.add(r.createdAddress.toString())
  }

  /** At the end of the top message: the post-state (a call's is reverted once it returns). */
  afterMessageAsync(_r: EVMResult): Promise<void> | undefined {
    if (this.depth !== 0 || !this.config.diffMode || !this.state) return undefined
    return this.guarded(() => this.end(this.state as StateView))
  }

  /** Reads every touched account again (diffMode), on the state the transaction left. */
  async end(state: StateView): Promise<void> {
    if (!this.config.diffMode) return
    const post = new Map<string, AccountState>()
    for (const [addr, pre] of this.pre) {
      const a = new Address(hexBytes(addr))
      const acc = await state.getAccount(a)
      const storage = new Map<string, string>()
      for (const slot of pre.storage.keys()) storage.set(slot, wordOf(await state.getStorage(a, hexBytes(slot))))
      post.set(addr, {
        balance: acc?.balance ?? 0n,
        nonce: acc?.nonce ?? 0n,
        code: await state.getCode(a),
        storage,
        empty: acc === undefined,
      })
    }
    this.post = post
  }

  result(): unknown {
    if (this.failure !== undefined) throw this.failure
    if (!this.config.diffMode) {
      const out: Record<string, unknown> = {}
      for (const [addr, acc] of this.pre) {
        // A created account was nothing before (unless something was there already).
        if (this.created.has(addr) && acc.empty) continue
        out[addr] = this.format(acc)
      }
      return out
    }
    const pre: Record<string, unknown> = {}
    const post: Record<string, unknown> = {}
    for (const [addr, before] of this.pre) {
      const after = this.post?.get(addr)
      if (!after) continue
      const changedSlots = new Map<string, string>()
      const preSlots = new Map<string, string>()
      for (const [slot, v] of before.storage) {
        const now = after.storage.get(slot) ?? ZERO_WORD
        if (now === v) continue
        if (v !== ZERO_WORD) preSlots.set(slot, v)
        if (now !== ZERO_WORD) changedSlots.set(slot, now)
      }
      const deleted = this.deleted.has(addr)
      const modified =
        deleted ||
        after.balance !== before.balance ||
        after.nonce !== before.nonce ||
        bytesToHex(after.code) !== bytesToHex(before.code) ||
        changedSlots.size > 0 ||
        preSlots.size > 0
      if (!modified) continue
      if (!(this.created.has(addr) && before.empty)) pre[addr] = this.format({ ...before, storage: preSlots })
      if (deleted && after.empty) continue
      const p: Record<string, unknown> = {}
      if (after.balance !== before.balance) p.balance = toQuantity(after.balance)
      if (!this.config.disableCode && bytesToHex(after.code) !== bytesToHex(before.code) && after.code.length > 0) {
        p.code = bytesToHex(after.code)
      }
      if (after.nonce !== before.nonce) p.nonce = Number(after.nonce)
      if (!this.config.disableStorage && changedSlots.size > 0) p.storage = Object.fromEntries(changedSlots)
      post[addr] = p
    }
    return { post, pre }
  }

  /**
   * An account as Anvil (and geth before 1.15) prints it: balance always, code, nonce and storage
   * when there are (no `codeHash`, which geth 1.15 added and Anvil does not print).
   */
  private format(acc: AccountState): Record<string, unknown> {
    const out: Record<string, unknown> = { balance: toQuantity(acc.balance) }
    if (!this.config.disableCode && acc.code.length > 0) out.code = bytesToHex(acc.code)
    if (acc.nonce > 0n) out.nonce = Number(acc.nonce)
    if (!this.config.disableStorage && acc.storage.size > 0) out.storage = Object.fromEntries(acc.storage)
    return out
  }

  private guarded(read: () => Promise<void>): Promise<void> {
    return read().catch((err: unknown) => {
      this.failure ??= err
    })
  }

  private async account(state: StateView, a: Address): Promise<AccountState> {
    const key = a.toString()
    const known = this.pre.get(key)
    if (known) return known
    const acc = await state.getAccount(a)
    const code = acc ? await state.getCode(a) : new Uint8Array()
    const entry: AccountState = {
      balance: acc?.balance ?? 0n,
      nonce: acc?.nonce ?? 0n,
      code,
      storage: new Map(),
      empty: !acc || (acc.balance === 0n && acc.nonce === 0n && code.length === 0),
    }
    // Another read of the same account may have finished first.
    const raced = this.pre.get(key)
    if (raced) return raced
    this.pre.set(key, entry)
    return entry
  }

  private async touch(state: StateView, a: Address): Promise<void> {
    await this.account(state, a)
  }

  private async slot(state: StateView, a: Address, slot: string): Promise<void> {
    const acc = await this.account(state, a)
    if (acc.storage.has(slot)) return
    const value = wordOf(await state.getStorage(a, hexBytes(slot)))
    if (!acc.storage.has(slot)) acc.storage.set(slot, value)
  }

  private async createdAt(state: StateView, a: Address): Promise<void> {
    this.created.add(a.toString())
    await this.account(state, a)
  }
}

function hexBytes(h: string): Uint8Array {
  return Uint8Array.from(Buffer.from(h.slice(2), 'hex'))
}

function wordOf(v: Uint8Array): string {
  return `0x${Buffer.from(v).toString('hex').padStart(64, '0')}`
}
