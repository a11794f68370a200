import { latin1Key } from '@cairn/db'
import type { Common } from '@ethereumjs/common'
import type { TypedTransaction } from '@ethereumjs/tx'
import { Account, type Address, bytesToUnprefixedHex, equalsBytes, KECCAK256_NULL, MAX_INTEGER } from '@ethereumjs/util'
import { Bloom, type RunTxResult, type VM } from '@ethereumjs/vm'
import type { TimeSlice } from '../time-slice.ts'

const TX_GAS = 21_000n

/** What the fast path needs of the block being built (read once per block). */
export interface BlockEnv {
  /** The accounts the block's plain transfers read and changed, held until something else reads state. */
  accounts: TransferAccounts
  gasLimit: bigint
  baseFee: bigint
  coinbase: Address
  /** Active precompiles, by unprefixed lower-case hex address (the EVM's own map). */
  precompiles: Map<string, unknown>
  /**
   * Every key of `precompiles` has 18 leading zero bytes (0x01–0x11, 0x100: Ethereum's own), so an
   * address with a non-zero byte among its first 18 is none of them without a lookup.
   */
  precompilesLow: boolean
  /** EIP-7825's per-transaction gas cap, when active. */
  maxTxGas: bigint | undefined
}

/**
 * EIPs that change what a plain value transfer does (access witnesses, block access lists,
 * multidimensional gas, transfer logs, new-account gas, refund accounting, the selfdestruct burn):
 * with any of them active every transaction takes the EVM path.
 */
const EIPS_OUTSIDE_FAST_PATH = [2780, 6800, 7708, 7778, 7864, 7928, 8037, 8246]

/** Whether `address`'s first 18 bytes are zero (where Ethereum's precompiles are). */
function lowAddress(address: Uint8Array): boolean {
  for (let i = 0; i < 18; i++) if (address[i] !== 0) return false
  return true
}

/** Whether every key of an EVM's precompile map is a low address (see {@link BlockEnv.precompilesLow}). */
export function allPrecompilesLow(precompiles: Map<string, unknown>): boolean {
  for (const key of precompiles.keys()) if (key.length !== 40 || !key.startsWith(LOW_PREFIX)) return false
  return true
}
const LOW_PREFIX = '0'.repeat(36)

/** An empty bloom shared by every fast-path result (readers only OR it into the block's bloom). */
const EMPTY_BLOOM = new Bloom()

type StateManager = VM['stateManager']

/** An account a block's transfers hold (undefined: absent), and whether they changed it. */
interface HeldAccount {
  address: Address
  account: Account | undefined
  dirty: boolean
}

/** Records `account` (the entry's, changed in place, or a new one) as the entry's, to be written. */
function written(entry: HeldAccount, account: Account): void {
  entry.account = account
  entry.dirty = true
}

/**
 * The accounts a block's plain transfers touch, kept as objects from one transfer to the next: the
 * state manager's account cache stores RLP, so each read decoded and each write encoded the sender,
 * the recipient and the coinbase again (three of each per transfer; a block of 1,400 transfers from
 * a few senders reads the same few accounts thousands of times). The first read of an account goes
 * to the state manager; the changes are written back, each account once, by {@link flush}, which
 * the executor calls before anything else reads or writes state (a transaction on the EVM path,
 * the block's end); a reverted block's are dropped with it (one instance per block).
 */
export class TransferAccounts {
  private readonly held = new Map<string, HeldAccount>()

  constructor(private readonly state: StateManager) {}

  /**
   * `address`'s entry: at once when it is held (the sender and the coinbase of a block's later
   * transfers), else after a read from the state manager. Not a promise when held, so a transfer
   * awaits only what it reads; the caller changes the entry's account in place and marks it
   * {@link written}, with no second lookup.
   */
  entry(address: Address): HeldAccount | Promise<HeldAccount> {
    const key = latin1Key(address.bytes)
    return this.held.get(key) ?? this.load(key, address)
  }

  private async load(key: string, address: Address): Promise<HeldAccount> {
    const account = await this.state.getAccount(address)
    let entry = this.held.get(key)
    if (entry === undefined) {
      entry = { address, account, dirty: false }
      this.held.set(key, entry)
    }
    return entry
  }

  /**
   * Writes every changed account to the state manager and forgets them all (what runs next may
   * change them). EIP-161: a touched account left empty is deleted (or never created); a sender's
   * nonce moved, so it is never empty.
   */
  async flush(slice?: TimeSlice): Promise<void> {
    // Forgotten only once all are written: a write that fails leaves them held, and writing the
    // same final values again is harmless.
    for (const { address, account, dirty } of this.held.values()) {
      if (dirty && account !== undefined) await putOrDelete(this.state, address, account)
      await slice?.check()
    }
    this.held.clear()
  }
}

/** Whether `common`'s rules allow the fast path at all (checked once per block). */
export function fastPathAllowed(common: Common): boolean {
  return common.isActivatedEIP(1559) && EIPS_OUTSIDE_FAST_PATH.every((eip) => !common.isActivatedEIP(eip))
}

/**
 * Runs a plain value transfer on the block's held accounts (`env.accounts`, written to the state
 * manager at the next flush), without setting up the EVM, with the
 * same effects as `@ethereumjs/vm`'s `runTx` (10.x) for it. Returns `undefined`, having changed
 * nothing, when the transaction is not one: the caller then runs it through the EVM, which also
 * produces the exact error for an invalid one (wrong nonce, insufficient funds, fee cap under the
 * base fee…).
 *
 * A plain transfer, exactly: a legacy, EIP-2930 or EIP-1559 transaction to an address that holds
 * no code and is not a precompile, with no data and no access list, from a sender without code
 * (a 7702-delegated sender takes the EVM path), within the block's remaining gas, whose nonce is
 * the sender's and whose sender can pay `gasLimit × maxFee + value` and `gasLimit × price + value`.
 * What `runTx` then does, in its order (each read after the previous write, so self-transfers
 * and the coinbase as sender or recipient come out the same):
 * 1. sender: balance −= gasLimit × price, nonce + 1, where price = baseFee + min(tip, maxFee −
 *    baseFee) (legacy: gasPrice);
 * 2. the call: sender balance −= value, recipient (created if absent) balance += value;
 * 3. gas used is the intrinsic 21,000 (no data, no access list, no refund; the EIP-7623 floor is
 *    21,000 too): the sender gets (gasLimit − 21,000) × price back;
 * 4. the coinbase gets 21,000 × (price − baseFee); the base fee part is burnt (credited to no one);
 * 5. EIP-161: the recipient and the coinbase, touched, are deleted when left empty (zero value to
 *    an absent account creates nothing);
 * 6. receipt: status 1, cumulative gas = block gas so far + 21,000, no logs, empty bloom.
 */
export async function runFastTransfer(
  env: BlockEnv,
  tx: TypedTransaction,
  sender: Address,
  blockGasUsed: bigint,
): Promise<RunTxResult | undefined> {
  if (tx.type > 2 || tx.to === undefined || tx.data.length !== 0) return undefined
  if (tx.type !== 0 && (tx as unknown as { accessList: unknown[] }).accessList.length !== 0) return undefined
  if (tx.gasLimit < TX_GAS || tx.gasLimit > env.gasLimit - blockGasUsed) return undefined
  if (env.maxTxGas !== undefined && tx.gasLimit > env.maxTxGas) return undefined
  const to = tx.to
  if ((!env.precompilesLow || lowAddress(to.bytes)) && env.precompiles.has(bytesToUnprefixedHex(to.bytes))) {
    return undefined
  }

  const { baseFee } = env
  let price: bigint
  let maxCost: bigint
  if (tx.type === 2) {
    const t = tx as unknown as { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }
    if (t.maxFeePerGas < baseFee) return undefined
    const room = t.maxFeePerGas - baseFee
    price = baseFee + (t.maxPriorityFeePerGas < room ? t.maxPriorityFeePerGas : room)
    maxCost = tx.value + tx.gasLimit * t.maxFeePerGas
  } else {
    price = (tx as unknown as { gasPrice: bigint }).gasPrice
    if (price < baseFee) return undefined
    maxCost = tx.value + tx.gasLimit * price
  }

  const state = env.accounts
  // A held entry is used as is: awaiting it would cost a microtask turn.
  const fromEntry = state.entry(sender)
  const fromHeld = fromEntry instanceof Promise ? await fromEntry : fromEntry
  const from = fromHeld.account
  if (from === undefined || !equalsBytes(from.codeHash, KECCAK256_NULL)) return undefined
  if (from.nonce !== tx.nonce || from.balance < maxCost) return undefined
  // Each account is read once; aliases (self-transfer, coinbase as sender or recipient) share the
  // object, so applying runTx's steps in its order gives its final values.
  const self = sender.equals(to)
  let recipient = from
  let toHeld = fromHeld
  if (!self) {
    const toEntry = state.entry(to)
    toHeld = toEntry instanceof Promise ? await toEntry : toEntry
    const r = toHeld.account
    if (r !== undefined && !equalsBytes(r.codeHash, KECCAK256_NULL)) return undefined
    if ((r?.balance ?? 0n) + tx.value > MAX_INTEGER) return undefined
    recipient = r ?? new Account()
  }
  const minerIsSender = env.coinbase.equals(sender)
  const minerIsRecipient = !minerIsSender && env.coinbase.equals(to)
  const minerEntry = minerIsSender ? fromHeld : minerIsRecipient ? toHeld : state.entry(env.coinbase)
  const minerHeld = minerEntry instanceof Promise ? await minerEntry : minerEntry
  const miner = minerIsSender ? from : minerIsRecipient ? recipient : (minerHeld.account ?? new Account())

  // 1. Upfront gas and nonce; 2. the value; 3. unused gas back; 4. the tip.
  from.balance -= tx.gasLimit * price
  from.nonce += 1n
  from.balance -= tx.value
  recipient.balance += tx.value
  from.balance += (tx.gasLimit - TX_GAS) * price
  const minerValue = TX_GAS * (price - baseFee)
  miner.balance += minerValue
  // 5. Held for the block's later transfers, written at the next flush (touched accounts left
  // empty go then, as runTx deletes them: EIP-161).
  written(fromHeld, from)
  if (!self) written(toHeld, recipient)
  if (!minerIsSender && !minerIsRecipient) written(minerHeld, miner)

  const amountSpent = TX_GAS * price
  return {
    totalGasSpent: TX_GAS,
    blockGasSpent: TX_GAS,
    amountSpent,
    minerValue,
    gasRefund: 0n,
    bloom: EMPTY_BLOOM,
    receipt: { status: 1, cumulativeBlockGasUsed: blockGasUsed + TX_GAS, bitvector: EMPTY_BLOOM.bitvector, logs: [] },
    execResult: { executionGasUsed: 0n, returnValue: new Uint8Array(), gasRefund: 0n, logs: [] },
  } as unknown as RunTxResult
}

/** EIP-161: a touched account left empty is deleted (or never created). */
async function putOrDelete(state: StateManager, address: Address, account: Account): Promise<void> {
  if (account.isEmpty()) await state.deleteAccount(address)
  else await state.putAccount(address, account)
}
