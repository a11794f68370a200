/**
 * The bridge of one shard: how a cross-shard message is sent, received and settled, over the
 * shard's state as the bridge system contract holds it ({@link BridgeState}). The same code runs
 * in the chain (behind the bridge's system calls) and in the seeded simulator, so what the
 * simulator proves (supply conserved, every message decided once and settled once, in order per
 * channel, no forged or replayed proof accepted) is a property of this code.
 *
 *   source  send     debit the sender, commitment[dest][seq] = hash(message)
 *   dest    receive  proof of the commitment under a verified source header; seq must be the
 *                    channel's next; decide once: expired (at/after its timeout height), else
 *                    credit and run the hook (failed if it reverts: nothing credited);
 *                    receipt[source][seq] = hash(status, message hash, ack)
 *   source  settle   proof of the receipt under a verified destination header; delivered ends it,
 *                    failed and expired refund the sender; the commitment is deleted either way
 *
 * Nothing is trusted of the relayer that carries a message or a receipt: anyone may relay, a
 * relay twice is refused (`REPLAYED`, `NOT_PENDING`), a relay out of order waits (`OUT_OF_ORDER`).
 */
import { CairnError } from '@cairn/utils'
import { ShardErrorCode } from './errors.ts'
import type { VerifiedHeader } from './light-client.ts'
import {
  type CrossShardMessage,
  checkMessage,
  commitmentSlot,
  messageHash,
  ReceiptStatus,
  receiptSlot,
  receiptValue,
} from './message.ts'
import { provenSlot, type SlotProof } from './proof.ts'

/** The shard's state as the bridge reads and writes it. */
export interface BridgeState {
  /** This shard's id. */
  readonly shard: number
  /** The bridge's address (its account holds the commitments and receipts in storage). */
  readonly bridgeAddress: Uint8Array
  /** This shard's current block height (what timeouts are compared with). */
  height(): bigint
  balanceOf(address: Uint8Array): bigint
  credit(address: Uint8Array, value: bigint): void
  debit(address: Uint8Array, value: bigint): void
  /** A word of the bridge's storage (undefined: zero). */
  load(slot: Uint8Array): Uint8Array | undefined
  store(slot: Uint8Array, value: Uint8Array | undefined): void
  /** The last sequence sent to `dest` (0: none). */
  sent(dest: number): bigint
  setSent(dest: number, seq: bigint): void
  /** The last sequence received from `source` (0: none). */
  received(source: number): bigint
  setReceived(source: number, seq: bigint): void
}

/** What a receive hook answers: ok with its acknowledgement bytes, or reverted (nothing credited). */
export type HookResult = { ok: true; ack?: Uint8Array } | { ok: false }

/**
 * The verified headers of another shard, as the bridge reads them: a `ShardLightClient` in memory,
 * or the light client's roots in the bridge's storage (`bridge-precompile.ts`).
 * `at` throws `CONSENSUS_SHARD_UNKNOWN_HEIGHT` for a height it has not verified.
 */
export interface VerifiedRoots {
  readonly shard: number
  at(height: number): VerifiedHeader | Promise<VerifiedHeader>
}

export interface SendRequest {
  sender: Uint8Array
  destShard: number
  receiver: Uint8Array
  value: bigint
  data?: Uint8Array
  timeoutHeight: bigint
}

export interface Relayed {
  /** The height of the verified header whose state root the proof is against. */
  height: number
  proof: SlotProof
}

export interface Decision {
  status: ReceiptStatus
  ack: Uint8Array
}

function fail(
  code: ShardErrorCode,
  message: string,
  fault: 'caller' | 'peer',
  meta?: Record<string, unknown>,
): CairnError {
  return new CairnError(code, message, { fault, meta })
}

const same = (a: Uint8Array | undefined, b: Uint8Array) => a !== undefined && Buffer.compare(a, b) === 0

/**
 * Sends a message: debits the sender and commits to the message on the source.
 * @throws CairnError `CONSENSUS_SHARD_INSUFFICIENT_FUNDS` / `CONSENSUS_SHARD_MALFORMED_MESSAGE` (fault 'caller')
 */
export function sendMessage(state: BridgeState, req: SendRequest): CrossShardMessage {
  const message: CrossShardMessage = {
    sourceShard: state.shard,
    destShard: req.destShard,
    sequence: state.sent(req.destShard) + 1n,
    sender: req.sender,
    receiver: req.receiver,
    value: req.value,
    data: req.data ?? new Uint8Array(),
    timeoutHeight: req.timeoutHeight,
  }
  try {
    checkMessage(message)
  } catch (err) {
    throw fail(ShardErrorCode.MALFORMED_MESSAGE, (err as Error).message, 'caller')
  }
  if (state.balanceOf(req.sender) < req.value) {
    throw fail(ShardErrorCode.INSUFFICIENT_FUNDS, `the sender cannot cover ${req.value} wei`, 'caller')
  }
  state.debit(req.sender, req.value)
  state.setSent(req.destShard, message.sequence)
  state.store(commitmentSlot(req.destShard, message.sequence), messageHash(message))
  return message
}

/**
 * Receives a message on its destination: proves its commitment on the source, takes it in order,
 * decides its fate once and writes the receipt.
 * @throws CairnError `CONSENSUS_SHARD_*`: `INVALID_PROOF`, `UNKNOWN_HEIGHT`, `REPLAYED` (delivered
 * already), `REFUNDED` (decided already as expired or failed: refunded on the source), `OUT_OF_ORDER`,
 * `WRONG_SHARD` (fault 'peer')
 */
export async function receiveMessage(
  state: BridgeState,
  message: CrossShardMessage,
  relayed: Relayed,
  source: VerifiedRoots,
  hook: (m: CrossShardMessage) => HookResult | Promise<HookResult>,
): Promise<Decision> {
  checkMessage(message)
  if (message.destShard !== state.shard) {
    throw fail(
      ShardErrorCode.WRONG_SHARD,
      `message for shard ${message.destShard} relayed to shard ${state.shard}`,
      'peer',
    )
  }
  if (source.shard !== message.sourceShard) {
    throw fail(
      ShardErrorCode.INVALID_PROOF,
      `a proof of shard ${source.shard} for a message of shard ${message.sourceShard}`,
      'peer',
    )
  }
  const expected = state.received(message.sourceShard) + 1n
  if (message.sequence < expected) {
    const stored = state.load(receiptSlot(message.sourceShard, message.sequence))
    const h = messageHash(message)
    if (same(stored, receiptValue(ReceiptStatus.EXPIRED, h)) || same(stored, receiptValue(ReceiptStatus.FAILED, h))) {
      throw fail(
        ShardErrorCode.REFUNDED,
        `message ${message.sourceShard}→${state.shard} #${message.sequence} was not delivered here: its value goes back to its sender on shard ${message.sourceShard}`,
        'peer',
      )
    }
    throw fail(
      ShardErrorCode.REPLAYED,
      `message ${message.sourceShard}→${state.shard} #${message.sequence} was received already`,
      'peer',
      { next: expected },
    )
  }
  if (message.sequence > expected) {
    throw fail(
      ShardErrorCode.OUT_OF_ORDER,
      `message ${message.sourceShard}→${state.shard} #${message.sequence} before #${expected}`,
      'peer',
      { next: expected },
    )
  }
  const hash = messageHash(message)
  const { stateRoot } = await source.at(relayed.height)
  const committed = await provenSlot(
    stateRoot,
    state.bridgeAddress,
    commitmentSlot(state.shard, message.sequence),
    relayed.proof,
  )
  if (!same(committed, hash)) {
    throw fail(
      ShardErrorCode.INVALID_PROOF,
      `shard ${message.sourceShard} did not commit to this message at height ${relayed.height}`,
      'peer',
    )
  }
  let decision: Decision
  if (state.height() >= message.timeoutHeight) {
    decision = { status: ReceiptStatus.EXPIRED, ack: new Uint8Array() }
  } else {
    const r = await hook(message)
    if (r.ok) {
      state.credit(message.receiver, message.value)
      decision = { status: ReceiptStatus.DELIVERED, ack: r.ack ?? new Uint8Array() }
    } else {
      decision = { status: ReceiptStatus.FAILED, ack: new Uint8Array() }
    }
  }
  state.setReceived(message.sourceShard, message.sequence)
  state.store(receiptSlot(message.sourceShard, message.sequence), receiptValue(decision.status, hash, decision.ack))
  return decision
}

/**
 * Settles a message on its source by proof of its receipt on the destination: delivered ends it,
 * failed and expired refund the sender. Once: the commitment is deleted.
 * @throws CairnError `CONSENSUS_SHARD_NOT_PENDING`, `INVALID_PROOF`, `UNKNOWN_HEIGHT` (fault 'peer')
 */
export async function settleMessage(
  state: BridgeState,
  message: CrossShardMessage,
  decision: Decision,
  relayed: Relayed,
  dest: VerifiedRoots,
): Promise<'delivered' | 'refunded'> {
  checkMessage(message)
  const slot = commitmentSlot(message.destShard, message.sequence)
  const hash = messageHash(message)
  if (message.sourceShard !== state.shard || !same(state.load(slot), hash)) {
    throw fail(
      ShardErrorCode.NOT_PENDING,
      `message ${message.sourceShard}→${message.destShard} #${message.sequence} is not pending here`,
      'peer',
    )
  }
  if (dest.shard !== message.destShard) {
    throw fail(
      ShardErrorCode.INVALID_PROOF,
      `a proof of shard ${dest.shard} for a message to shard ${message.destShard}`,
      'peer',
    )
  }
  const { stateRoot } = await dest.at(relayed.height)
  const stored = await provenSlot(
    stateRoot,
    state.bridgeAddress,
    receiptSlot(state.shard, message.sequence),
    relayed.proof,
  )
  if (!same(stored, receiptValue(decision.status, hash, decision.ack))) {
    throw fail(
      ShardErrorCode.INVALID_PROOF,
      `shard ${message.destShard} holds no such receipt at height ${relayed.height}`,
      'peer',
    )
  }
  state.store(slot, undefined)
  if (decision.status === ReceiptStatus.DELIVERED) return 'delivered'
  state.credit(message.sender, message.value)
  return 'refunded'
}
