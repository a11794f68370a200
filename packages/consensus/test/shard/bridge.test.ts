/**
 * One cross-shard message end to end over real tries, headers and certificates, and each way a
 * relayer can cheat: a proof against an unverified header, a tampered amount, a replay, a message
 * out of order, a forged certificate, a refund of a delivered message.
 */
import { describe, expect, it } from 'vitest'
import {
  commitmentSlot,
  decodeMessage,
  encodeMessage,
  ReceiptStatus,
  receiptSlot,
  receiveMessage,
  sendMessage,
  settleMessage,
} from '../../src/shard/index.ts'
import { SimShard } from './sim-shard.ts'

const alice = new Uint8Array(20).fill(0xa1)
const bob = new Uint8Array(20).fill(0xb0)
const ok = () => ({ ok: true as const, ack: new TextEncoder().encode('thanks') })

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p)
  } catch (err) {
    return (err as { code: string }).code
  }
  return 'no error'
}

async function network() {
  const [a, b] = [new SimShard(0), new SimShard(1)]
  a.credit(alice, 1_000n)
  await a.seal()
  await b.seal()
  // b's light client of a, a's of b: synced to their sealed heads
  const aOnB = a.lightClient()
  const bOnA = b.lightClient()
  const sync = () => {
    for (const s of a.sealed.slice(aOnB.height)) aOnB.update(s.rlp, s.certificate)
    for (const s of b.sealed.slice(bOnA.height)) bOnA.update(s.rlp, s.certificate)
  }
  sync()
  return { a, b, aOnB, bOnA, sync }
}

describe('a cross-shard message', () => {
  it('is delivered once with its acknowledgement, and settled once', async () => {
    const { a, b, aOnB, bOnA, sync } = await network()
    const m = sendMessage(a, { sender: alice, destShard: 1, receiver: bob, value: 300n, timeoutHeight: 100n })
    expect(a.balanceOf(alice)).toBe(700n)
    expect(decodeMessage(encodeMessage(m))).toEqual(m)
    const sent = await a.seal()
    // Not yet verified on b: refused, nothing written.
    const proof = await a.prove(sent.height, commitmentSlot(1, m.sequence))
    expect(await codeOf(receiveMessage(b, m, { height: sent.height, proof }, aOnB, ok))).toBe(
      'CONSENSUS_SHARD_UNKNOWN_HEIGHT',
    )
    expect(b.received(0)).toBe(0n)
    sync()
    // A tampered amount: the commitment does not match.
    expect(await codeOf(receiveMessage(b, { ...m, value: 3_000n }, { height: sent.height, proof }, aOnB, ok))).toBe(
      'CONSENSUS_SHARD_INVALID_PROOF',
    )
    // A proof against a verified header from before it was sent.
    const before = await a.prove(1, commitmentSlot(1, m.sequence))
    expect(await codeOf(receiveMessage(b, m, { height: 1, proof: before }, aOnB, ok))).toBe(
      'CONSENSUS_SHARD_INVALID_PROOF',
    )
    // The right proof against another height's root.
    expect(await codeOf(receiveMessage(b, m, { height: 1, proof }, aOnB, ok))).toBe('CONSENSUS_SHARD_INVALID_PROOF')
    expect(b.balanceOf(bob)).toBe(0n)
    const decision = await receiveMessage(b, m, { height: sent.height, proof }, aOnB, ok)
    expect(decision.status).toBe(ReceiptStatus.DELIVERED)
    expect(b.balanceOf(bob)).toBe(300n)
    // Replayed: refused.
    expect(await codeOf(receiveMessage(b, m, { height: sent.height, proof }, aOnB, ok))).toBe(
      'CONSENSUS_SHARD_REPLAYED',
    )
    const got = await b.seal()
    sync()
    const receipt = await b.prove(got.height, receiptSlot(0, m.sequence))
    // A receipt claimed as failed (to get a refund) does not match what b wrote.
    expect(
      await codeOf(
        settleMessage(
          a,
          m,
          { status: ReceiptStatus.FAILED, ack: new Uint8Array() },
          { height: got.height, proof: receipt },
          bOnA,
        ),
      ),
    ).toBe('CONSENSUS_SHARD_INVALID_PROOF')
    expect(await settleMessage(a, m, decision, { height: got.height, proof: receipt }, bOnA)).toBe('delivered')
    expect(a.balanceOf(alice)).toBe(700n)
    expect(await codeOf(settleMessage(a, m, decision, { height: got.height, proof: receipt }, bOnA))).toBe(
      'CONSENSUS_SHARD_NOT_PENDING',
    )
  })

  it('arriving at its timeout height expires and is refunded once; a later one waits for it', async () => {
    const { a, b, aOnB, bOnA, sync } = await network()
    const m1 = sendMessage(a, { sender: alice, destShard: 1, receiver: bob, value: 100n, timeoutHeight: 3n })
    const m2 = sendMessage(a, { sender: alice, destShard: 1, receiver: bob, value: 50n, timeoutHeight: 100n })
    const sent = await a.seal()
    await b.seal() // b at height 3: m1 expires on arrival
    sync()
    const p2 = await a.prove(sent.height, commitmentSlot(1, 2n))
    expect(await codeOf(receiveMessage(b, m2, { height: sent.height, proof: p2 }, aOnB, ok))).toBe(
      'CONSENSUS_SHARD_OUT_OF_ORDER',
    )
    const p1 = await a.prove(sent.height, commitmentSlot(1, 1n))
    const d1 = await receiveMessage(b, m1, { height: sent.height, proof: p1 }, aOnB, ok)
    expect(d1.status).toBe(ReceiptStatus.EXPIRED)
    const d2 = await receiveMessage(b, m2, { height: sent.height, proof: p2 }, aOnB, ok)
    expect(d2.status).toBe(ReceiptStatus.DELIVERED)
    expect(b.balanceOf(bob)).toBe(50n)
    const got = await b.seal()
    sync()
    const r1 = await b.prove(got.height, receiptSlot(0, 1n))
    expect(await settleMessage(a, m1, d1, { height: got.height, proof: r1 }, bOnA)).toBe('refunded')
    expect(a.balanceOf(alice)).toBe(1_000n - 50n)
    expect(await codeOf(settleMessage(a, m1, d1, { height: got.height, proof: r1 }, bOnA))).toBe(
      'CONSENSUS_SHARD_NOT_PENDING',
    )
  })

  it('whose receive hook reverts is not credited and is refunded', async () => {
    const { a, b, aOnB, bOnA, sync } = await network()
    const m = sendMessage(a, {
      sender: alice,
      destShard: 1,
      receiver: bob,
      value: 10n,
      data: Uint8Array.of(1),
      timeoutHeight: 100n,
    })
    const sent = await a.seal()
    sync()
    const d = await receiveMessage(
      b,
      m,
      { height: sent.height, proof: await a.prove(sent.height, commitmentSlot(1, 1n)) },
      aOnB,
      () => ({ ok: false }),
    )
    expect(d.status).toBe(ReceiptStatus.FAILED)
    expect(b.balanceOf(bob)).toBe(0n)
    const got = await b.seal()
    sync()
    expect(
      await settleMessage(a, m, d, { height: got.height, proof: await b.prove(got.height, receiptSlot(0, 1n)) }, bOnA),
    ).toBe('refunded')
    expect(a.balanceOf(alice)).toBe(1_000n)
  })

  it('cannot be sent beyond the balance, to its own shard, or with a bad field', async () => {
    const { a } = await network()
    expect(
      await codeOf(() =>
        sendMessage(a, { sender: alice, destShard: 1, receiver: bob, value: 1_001n, timeoutHeight: 9n }),
      ),
    ).toBe('CONSENSUS_SHARD_INSUFFICIENT_FUNDS')
    expect(
      await codeOf(() => sendMessage(a, { sender: alice, destShard: 0, receiver: bob, value: 1n, timeoutHeight: 9n })),
    ).toBe('CONSENSUS_SHARD_MALFORMED_MESSAGE')
    expect(
      await codeOf(() =>
        sendMessage(a, { sender: alice, destShard: 1, receiver: bob.slice(1), value: 1n, timeoutHeight: 9n }),
      ),
    ).toBe('CONSENSUS_SHARD_MALFORMED_MESSAGE')
    expect(a.balanceOf(alice)).toBe(1_000n)
    expect(a.sent(1)).toBe(0n)
  })
})

describe('the light client of a shard', () => {
  it('takes headers in order with certificates of more than 2/3, and refuses the rest', async () => {
    const a = new SimShard(0)
    const [h1, h2] = [await a.seal(), await a.seal()]
    const lc = a.lightClient()
    expect(await codeOf(() => lc.update(h2.rlp, h2.certificate))).toBe('CONSENSUS_SHARD_INVALID_HEADER')
    // 2 of 4 signatures: not > 2/3.
    expect(await codeOf(() => lc.update(h1.rlp, a.certify(1, h1.hash, 2)))).toBe('CONSENSUS_SHARD_INVALID_HEADER')
    // Signed by keys that are not the set's.
    const strangers = [5, 6, 7, 8].map((i) => new Uint8Array(32).fill(i))
    expect(await codeOf(() => lc.update(h1.rlp, a.certify(1, h1.hash, 3, strangers)))).toBe(
      'CONSENSUS_SHARD_INVALID_HEADER',
    )
    // Another shard's certificate of the same header (its chain id signs other digests).
    const other = new SimShard(1)
    expect(await codeOf(() => lc.update(h1.rlp, other.certify(1, h1.hash, 4)))).toBe('CONSENSUS_SHARD_INVALID_HEADER')
    expect(lc.height).toBe(0)
    expect(lc.update(h1.rlp, h1.certificate).height).toBe(1)
    expect(await codeOf(() => lc.update(h1.rlp, h1.certificate))).toBe('CONSENSUS_SHARD_INVALID_HEADER')
    expect(lc.update(h2.rlp, h2.certificate).stateRoot).toEqual(h2.stateRoot)
    expect(await codeOf(() => lc.at(3))).toBe('CONSENSUS_SHARD_UNKNOWN_HEIGHT')
  })
})
