/**
 * The bridge inside the chain: two shards, each a real in-process BFT chain (one validator, their
 * own chain ids) whose VMs carry the bridge precompile at BRIDGE_ADDRESS, its light client of the
 * other shard placed by the genesis. A transfer is sent by a transaction on shard 0, its headers
 * and the commitment's proof are relayed to shard 1 as transactions, and it is credited there once;
 * each cheat is refused by the chain with its own code (the revert's `ShardError`); an expired
 * message is refunded on shard 0 once, and a relay of it afterwards is refused; receive hooks run
 * and their acknowledgements are proven back, where the bridge calls the sending contract's
 * `onAcknowledgement` (a failing callback does not hold the settlement).
 */
import { accountProof } from '@cairn/chain'
import { privateKeyToAddress } from '@cairn/crypto'
import { bytesToHex, type Hex } from '@cairn/utils'
import type { MerkleStateManager } from '@ethereumjs/statemanager'
import { Address, hexToBytes } from '@ethereumjs/util'
import { decodeErrorResult, decodeEventLog, decodeFunctionResult, encodeFunctionData, keccak256, toHex } from 'viem'
import { afterEach, describe, expect, it } from 'vitest'
import { ADDRS, KEYS, transfer } from '../../../chain/test/helpers.ts'
import {
  ACK_HOOK_GAS,
  BRIDGE_ADDRESS,
  bridgeAbi,
  bridgeExtension,
  bridgeGenesisAlloc,
  commitmentSlot,
  decodeMessage,
  encodeMessage,
  HOOK_GAS,
  ReceiptStatus,
  receiptSlot,
} from '../../src/shard/index.ts'
import { BftNetwork, type BftNode, validatorKey } from '../harness/bft-network.ts'
import { crossShardPing, crossShardPingAbi } from './fixtures/cross-shard-ping.ts'

const ALICE_KEY = KEYS[0] as Uint8Array
const ALICE = ADDRS[0] as Hex
const RELAYER_KEY = KEYS[1] as Uint8Array
const BOB = `0x${'b0'.repeat(20)}` as Hex
const ETH = 10n ** 18n
const HOOK = `0x${'40'.repeat(20)}` as Hex
const REVERTER = `0x${'44'.repeat(20)}` as Hex
/** Writes 1 to slot 0, then returns 1,025 bytes: an acknowledgement too long, so the hook failed. */
const LONG_ACK = `0x${'45'.repeat(20)}` as Hex
/** `CrossShardPing` contracts: on both shards; on shard 0 also two whose callbacks fail (modes 1 and 2). */
const PING = `0x${'50'.repeat(20)}` as Hex
const PING_REVERTS = `0x${'51'.repeat(20)}` as Hex
const PING_LOOPS = `0x${'52'.repeat(20)}` as Hex

let nets: BftNetwork[] = []
afterEach(async () => {
  for (const n of nets) await n.stop()
  nets = []
})

async function shard(index: number, withAlloc = true): Promise<Shard> {
  const peer = 1 - index
  const net = await BftNetwork.create({
    validators: 1,
    chainId: 1337n + BigInt(index),
    genesis: (g) => {
      ;(g.config.cairn as Record<string, unknown>).shard = { index, count: 2 }
      // A receiver that records its call data's length in slot 0 and acknowledges with the word 42, one that reverts.
      g.alloc[HOOK] = { balance: '0x0', code: '0x36600055602a60005260206000f3' }
      g.alloc[REVERTER] = { balance: '0x0', code: '0x60006000fd' }
      g.alloc[LONG_ACK] = { balance: '0x0', code: '0x60016000556104016000f3' }
      const ping = crossShardPing().deployedBytecode
      g.alloc[PING] = { balance: '0x0', code: ping }
      g.alloc[PING_REVERTS] = {
        balance: '0x0',
        code: ping,
        storage: { [toHex(0, { size: 32 })]: toHex(1, { size: 32 }) },
      }
      g.alloc[PING_LOOPS] = {
        balance: '0x0',
        code: ping,
        storage: { [toHex(0, { size: 32 })]: toHex(2, { size: 32 }) },
      }
      if (withAlloc)
        Object.assign(
          g.alloc,
          bridgeGenesisAlloc([
            {
              shard: peer,
              chainId: 1337n + BigInt(peer),
              genesisHash: new Uint8Array(32),
              validators: [{ address: privateKeyToAddress(validatorKey(0)), votingPower: 10n }],
            },
          ]),
        )
    },
    extendVM: bridgeExtension({ shard: index, count: 2 }),
  })
  nets.push(net)
  await net.start()
  return new Shard(net)
}

class Shard {
  readonly nonces = new Map<Uint8Array, bigint>()
  constructor(readonly net: BftNetwork) {}
  get node(): BftNode {
    return this.net.nodes[0] as BftNode
  }
  get height(): bigint {
    return this.node.chain.head.header.number
  }
  async until(height: bigint): Promise<void> {
    expect(await this.net.runUntil(() => this.height >= height, 60_000)).toBe(true)
  }

  /** A transaction to the bridge (or `to`), included; its receipt. */
  async send(key: Uint8Array, data: Hex, value = 0n, opts: { to?: Hex; gasLimit?: bigint } = {}) {
    const nonce = this.nonces.get(key) ?? 0n
    this.nonces.set(key, nonce + 1n)
    const tx = transfer(this.node.chain.common, key, nonce, opts.to ?? BRIDGE_ADDRESS, value, {
      data: hexToBytes(data),
      gasLimit: opts.gasLimit ?? 2_000_000n,
    })
    await this.node.pool.add(tx, { source: 'local' })
    let at: { blockHash: Uint8Array; index: number } | undefined
    for (let i = 0; i < 120 && at === undefined; i++) {
      await this.net.run(500)
      at = await this.node.chain.getTxLocation(tx.hash())
    }
    if (at === undefined) throw new Error('the transaction was not included')
    const receipts = await this.node.chain.getReceipts(at.blockHash)
    return receipts?.[at.index] as NonNullable<typeof receipts>[number]
  }

  /** An eth_call of the bridge at the head: its return data, or the ShardError code it reverts with. */
  async call(data: Hex, from: Hex = ALICE, to: Hex = BRIDGE_ADDRESS): Promise<{ code?: string; out: Hex }> {
    const vm = await this.node.chain.vmAt(this.node.chain.head.header)
    const res = await vm.evm.runCall({
      caller: new Address(hexToBytes(from)),
      origin: new Address(hexToBytes(from)),
      to: new Address(hexToBytes(to)),
      data: hexToBytes(data),
      gasLimit: 2_000_000n,
    })
    const out = bytesToHex(res.execResult.returnValue)
    if (res.execResult.exceptionError === undefined) return { out }
    const err = decodeErrorResult({ abi: bridgeAbi, data: out })
    return { code: err.args[0] as string, out }
  }

  async balance(address: Hex): Promise<bigint> {
    const state = this.node.chain.stateAt(this.node.chain.head.header.stateRoot)
    return (await state.getAccount(new Address(hexToBytes(address))))?.balance ?? 0n
  }

  /** The header RLP and certificate of `height` (final: its child carries or the store holds it). */
  async headerAt(height: bigint): Promise<{ header: Hex; certificate: Hex }> {
    const block = await this.node.chain.getBlockByNumber(height)
    if (!block) throw new Error(`no block ${height}`)
    const cert = await this.node.chain.getFinality(block.hash())
    if (!cert) throw new Error(`block ${height} is not final`)
    return { header: bytesToHex(block.header.serialize()), certificate: bytesToHex(cert) }
  }

  /** The proof of a bridge slot at `height`. */
  async proof(height: bigint, slot: Uint8Array) {
    const block = await this.node.chain.getBlockByNumber(height)
    if (!block) throw new Error(`no block ${height}`)
    const state = this.node.chain.stateAt(block.header.stateRoot) as MerkleStateManager
    const p = await accountProof(state, hexToBytes(BRIDGE_ADDRESS), [slot])
    return { accountProof: p.accountProof as Hex[], storageProof: p.storageProof[0]?.proof as Hex[] }
  }
}

/** Relays `from`'s headers up to `height` into `to`'s light client of it. */
async function syncClient(from: Shard, to: Shard, fromIndex: number, height: bigint): Promise<void> {
  const { out } = await to.call(encodeFunctionData({ abi: bridgeAbi, functionName: 'clientHeight', args: [fromIndex] }))
  for (let h = BigInt(out) + 1n; h <= height; h++) {
    await from.until(h + 1n)
    const { header, certificate } = await from.headerAt(h)
    const r = await to.send(
      RELAYER_KEY,
      encodeFunctionData({ abi: bridgeAbi, functionName: 'updateClient', args: [fromIndex, header, certificate] }),
    )
    expect(r.status).toBe(1)
  }
}

/** The bridge's events in a receipt, decoded. */
function bridgeEvents(receipt: { logs: [Uint8Array, Uint8Array[], Uint8Array][] }) {
  return receipt.logs
    .filter(([a]) => bytesToHex(a) === BRIDGE_ADDRESS)
    .map(([, topics, data]) =>
      decodeEventLog({
        abi: bridgeAbi,
        topics: topics.map((t) => bytesToHex(t)) as [Hex, ...Hex[]],
        data: bytesToHex(data),
      }),
    )
}

function sentMessage(receipt: { logs: [Uint8Array, Uint8Array[], Uint8Array][] }) {
  const ev = bridgeEvents(receipt)[0]
  expect(ev?.eventName).toBe('MessageSent')
  return decodeMessage(hexToBytes((ev?.args as { message: Hex }).message))
}

const receiveCall = (message: Hex, height: bigint, p: { accountProof: Hex[]; storageProof: Hex[] }) =>
  encodeFunctionData({
    abi: bridgeAbi,
    functionName: 'receiveMessage',
    args: [message, height, p.accountProof, p.storageProof],
  })

describe('the bridge system contract on two real chains', () => {
  it('delivers a transfer once; refuses a replay, a tampered amount, an unverified header; refunds an expired one once', async () => {
    const [a, b] = [await shard(0), await shard(1)]
    await a.until(2n)
    await b.until(2n)
    const aliceBefore = await a.balance(ALICE)

    // Send 1 ETH from shard 0 to Bob on shard 1: debited on 0, a commitment in the bridge's storage.
    const sendData = (timeout: bigint) =>
      encodeFunctionData({ abi: bridgeAbi, functionName: 'send', args: [1, BOB, timeout, '0x'] })
    const sent = await a.send(ALICE_KEY, sendData(1_000_000n), ETH)
    expect(sent.status).toBe(1)
    const m = sentMessage(sent)
    expect(m).toMatchObject({ sourceShard: 0, destShard: 1, sequence: 1n, value: ETH })
    expect(await a.balance(ALICE)).toBeLessThan(aliceBefore - ETH + 1n)
    expect(await a.balance(BRIDGE_ADDRESS)).toBe(0n)
    const height = a.height
    const proof = await a.proof(height, commitmentSlot(1, 1n))
    const raw = bytesToHex(encodeMessage(m))

    // A proof against a header shard 1 has not verified (not relayed, so not final there): refused.
    expect((await b.call(receiveCall(raw, height, proof))).code).toBe('CONSENSUS_SHARD_UNKNOWN_HEIGHT')
    // A header whose certificate another chain's validators signed (shard 1's own): refused.
    const own = await b.headerAt(1n)
    expect(
      (
        await b.call(
          encodeFunctionData({ abi: bridgeAbi, functionName: 'updateClient', args: [0, own.header, own.certificate] }),
        )
      ).code,
    ).toBe('CONSENSUS_SHARD_INVALID_HEADER')

    await syncClient(a, b, 0, height)
    // A tampered amount: the commitment does not match.
    const tampered = bytesToHex(encodeMessage({ ...m, value: 5n * ETH }))
    expect((await b.call(receiveCall(tampered, height, proof))).code).toBe('CONSENSUS_SHARD_INVALID_PROOF')
    expect(await b.balance(BOB)).toBe(0n)

    // Delivered, once.
    const got = await b.send(RELAYER_KEY, receiveCall(raw, height, proof))
    expect(got.status).toBe(1)
    expect(await b.balance(BOB)).toBe(ETH)
    expect((await b.call(receiveCall(raw, height, proof))).code).toBe('CONSENSUS_SHARD_REPLAYED')
    const replay = await b.send(RELAYER_KEY, receiveCall(raw, height, proof))
    expect(replay.status).toBe(0)
    expect(await b.balance(BOB)).toBe(ETH)

    // A second message whose timeout shard 1 has passed: expired there, refunded on shard 0 once.
    const late = await a.send(ALICE_KEY, sendData(2n), 2n * ETH)
    const m2 = sentMessage(late)
    const afterSend = await a.balance(ALICE)
    const h2 = a.height
    const p2 = await a.proof(h2, commitmentSlot(1, 2n))
    await syncClient(a, b, 0, h2)
    const raw2 = bytesToHex(encodeMessage(m2))
    const expired = await b.send(RELAYER_KEY, receiveCall(raw2, h2, p2))
    expect(expired.status).toBe(1)
    expect(await b.balance(BOB)).toBe(ETH)
    const hb = b.height
    const receipt = await b.proof(hb, receiptSlot(0, 2n))
    await syncClient(b, a, 1, hb)
    const settle = encodeFunctionData({
      abi: bridgeAbi,
      functionName: 'settle',
      args: [raw2, ReceiptStatus.EXPIRED, '0x', hb, receipt.accountProof, receipt.storageProof],
    })
    const refunded = await a.send(RELAYER_KEY, settle)
    expect(refunded.status).toBe(1)
    expect(await a.balance(ALICE)).toBe(afterSend + 2n * ETH)
    // The refund again, and the refunded message relayed again to shard 1: each refused with its code.
    expect((await a.call(settle)).code).toBe('CONSENSUS_SHARD_NOT_PENDING')
    expect((await b.call(receiveCall(raw2, h2, p2))).code).toBe('CONSENSUS_SHARD_REFUNDED')
    expect(await a.balance(ALICE)).toBe(afterSend + 2n * ETH)
  }, 120_000)

  it('keeps its account and storage on a shard whose genesis did not place it', async () => {
    const a = await shard(0, false)
    await a.until(2n)
    const data = encodeFunctionData({ abi: bridgeAbi, functionName: 'send', args: [1, BOB, 1_000n, '0x'] })
    expect((await a.send(ALICE_KEY, data, ETH)).status).toBe(1)
    const state = a.node.chain.stateAt(a.node.chain.head.header.stateRoot)
    expect((await state.getAccount(new Address(hexToBytes(BRIDGE_ADDRESS))))?.nonce).toBe(1n)
    const { out } = await a.call(encodeFunctionData({ abi: bridgeAbi, functionName: 'sent', args: [1] }))
    expect(BigInt(out)).toBe(1n)
  }, 60_000)

  it("runs a message's receive hook: its acknowledgement proven back; a reverting hook's value refunded", async () => {
    const [a, b] = [await shard(0), await shard(1)]
    await a.until(2n)
    await b.until(2n)
    const send = (to: Hex, data: Hex) =>
      encodeFunctionData({ abi: bridgeAbi, functionName: 'send', args: [1, to, 1_000_000n, data] })
    const m1 = sentMessage(await a.send(ALICE_KEY, send(HOOK, '0xc0ffee'), ETH))
    const m2 = sentMessage(await a.send(ALICE_KEY, send(REVERTER, '0x01'), 2n * ETH))
    const m3 = sentMessage(await a.send(ALICE_KEY, send(LONG_ACK, '0x01'), ETH))
    const afterSends = await a.balance(ALICE)
    const h = a.height
    await syncClient(a, b, 0, h)
    // A relay whose gas cannot cover the hook's whole allowance runs out of gas: nothing decided.
    const p1 = await a.proof(h, commitmentSlot(1, m1.sequence))
    const starved = await b.send(RELAYER_KEY, receiveCall(bytesToHex(encodeMessage(m1)), h, p1), 0n, {
      gasLimit: HOOK_GAS,
    })
    expect(starved.status).toBe(0)
    for (const m of [m1, m2, m3]) {
      const p = await a.proof(h, commitmentSlot(1, m.sequence))
      expect((await b.send(RELAYER_KEY, receiveCall(bytesToHex(encodeMessage(m)), h, p))).status).toBe(1)
    }
    // The hook whose acknowledgement is too long failed: its write is undone, nothing credited.
    expect(await b.balance(LONG_ACK)).toBe(0n)
    const longAckSlot = await b.node.chain
      .stateAt(b.node.chain.head.header.stateRoot)
      .getStorage(new Address(hexToBytes(LONG_ACK)), new Uint8Array(32))
    expect(longAckSlot.length === 0 || longAckSlot.every((x) => x === 0)).toBe(true)
    // The hook ran with the data (3 bytes) and was credited; the reverting one was not.
    expect(await b.balance(HOOK)).toBe(ETH)
    expect(await b.balance(REVERTER)).toBe(0n)
    const stored = await b.node.chain
      .stateAt(b.node.chain.head.header.stateRoot)
      .getStorage(new Address(hexToBytes(HOOK)), new Uint8Array(32))
    expect(BigInt(bytesToHex(stored))).toBe(3n)
    const ack = bytesToHex(Uint8Array.of(...new Uint8Array(31), 42))
    const hb = b.height
    await syncClient(b, a, 1, hb)
    const settle = async (m: typeof m1, status: number, ack: Hex) => {
      const p = await b.proof(hb, receiptSlot(0, m.sequence))
      return encodeFunctionData({
        abi: bridgeAbi,
        functionName: 'settle',
        args: [bytesToHex(encodeMessage(m)), status, ack, hb, p.accountProof, p.storageProof],
      })
    }
    // A lying acknowledgement does not match the receipt; the true one settles it.
    expect((await a.call(await settle(m1, ReceiptStatus.DELIVERED, '0x'))).code).toBe('CONSENSUS_SHARD_INVALID_PROOF')
    expect((await a.send(RELAYER_KEY, await settle(m1, ReceiptStatus.DELIVERED, ack))).status).toBe(1)
    expect((await a.send(RELAYER_KEY, await settle(m2, ReceiptStatus.FAILED, '0x'))).status).toBe(1)
    expect(await a.balance(ALICE)).toBe(afterSends + 2n * ETH)
  }, 120_000)
})

describe("the acknowledgement's call back to the sending contract", () => {
  it('calls onAcknowledgement once with the proven status and ack; a failing callback or a starved settle holds nothing', async () => {
    const [a, b] = [await shard(0), await shard(1)]
    await a.until(2n)
    await b.until(2n)
    type View = 'acks' | 'lastDest' | 'lastSequence' | 'lastStatus' | 'lastAck' | 'pongs'
    const read = async (s: Shard, at: Hex, functionName: View): Promise<unknown> => {
      const { out, code } = await s.call(encodeFunctionData({ abi: crossShardPingAbi, functionName }), ALICE, at)
      expect(code).toBeUndefined()
      return decodeFunctionResult({ abi: crossShardPingAbi, functionName, data: out } as never)
    }
    const ping = (receiver: Hex, payload: string) =>
      encodeFunctionData({
        abi: crossShardPingAbi,
        functionName: 'ping',
        args: [1, receiver, 1_000_000n, toHex(payload)],
      })
    // Four messages sent by contracts of shard 0, each a call of `pong` on shard 1: three to PING
    // (from senders whose callbacks succeed, revert, loop), one to a receiver that reverts (failed).
    const m1 = sentMessage(await a.send(ALICE_KEY, ping(PING, 'hello'), ETH, { to: PING }))
    const m2 = sentMessage(await a.send(ALICE_KEY, ping(PING, 'two'), ETH, { to: PING_REVERTS }))
    const m3 = sentMessage(await a.send(ALICE_KEY, ping(PING, 'three'), ETH, { to: PING_LOOPS }))
    const m4 = sentMessage(await a.send(ALICE_KEY, ping(REVERTER, 'four'), 2n * ETH, { to: PING }))
    expect([m1, m2, m3, m4].map((m) => [bytesToHex(m.sender), m.sequence])).toEqual([
      [PING, 1n],
      [PING_REVERTS, 2n],
      [PING_LOOPS, 3n],
      [PING, 4n],
    ])
    expect(await a.balance(PING)).toBe(0n)
    const h = a.height
    await syncClient(a, b, 0, h)
    for (const m of [m1, m2, m3, m4]) {
      const p = await a.proof(h, commitmentSlot(1, m.sequence))
      expect((await b.send(RELAYER_KEY, receiveCall(bytesToHex(encodeMessage(m)), h, p))).status).toBe(1)
    }
    expect(await read(b, PING, 'pongs')).toBe(3n)
    expect(await b.balance(PING)).toBe(3n * ETH)

    const hb = b.height
    await syncClient(b, a, 1, hb)
    const settle = async (m: typeof m1, status: number, ack: Hex) => {
      const p = await b.proof(hb, receiptSlot(0, m.sequence))
      return encodeFunctionData({
        abi: bridgeAbi,
        functionName: 'settle',
        args: [bytesToHex(encodeMessage(m)), status, ack, hb, p.accountProof, p.storageProof],
      })
    }
    const ack1 = keccak256(toHex('hello'))
    // A lying acknowledgement (another payload's hash, or none) is refused; the sender is not called.
    expect((await a.call(await settle(m1, ReceiptStatus.DELIVERED, keccak256(toHex('hullo'))))).code).toBe(
      'CONSENSUS_SHARD_INVALID_PROOF',
    )
    expect((await a.call(await settle(m1, ReceiptStatus.FAILED, '0x'))).code).toBe('CONSENSUS_SHARD_INVALID_PROOF')
    // A settle whose gas cannot cover the callback's allowance runs out of gas as a whole: still pending.
    const starved = await a.send(RELAYER_KEY, await settle(m1, ReceiptStatus.DELIVERED, ack1), 0n, {
      gasLimit: ACK_HOOK_GAS,
    })
    expect(starved.status).toBe(0)
    expect(await read(a, PING, 'acks')).toBe(0n)
    // The true acknowledgement: settled, and PING told of it once.
    const r1 = await a.send(RELAYER_KEY, await settle(m1, ReceiptStatus.DELIVERED, ack1))
    expect(r1.status).toBe(1)
    expect(bridgeEvents(r1).map((e) => [e.eventName, (e.args as { ok?: boolean }).ok])).toEqual([
      ['MessageSettled', undefined],
      ['AcknowledgementCalled', true],
    ])
    expect(await read(a, PING, 'acks')).toBe(1n)
    expect(await read(a, PING, 'lastDest')).toBe(1)
    expect(await read(a, PING, 'lastSequence')).toBe(1n)
    expect(await read(a, PING, 'lastStatus')).toBe(ReceiptStatus.DELIVERED)
    expect(await read(a, PING, 'lastAck')).toBe(ack1)
    expect((await a.call(await settle(m1, ReceiptStatus.DELIVERED, ack1))).code).toBe('CONSENSUS_SHARD_NOT_PENDING')

    // A callback that reverts, one that loops: caught, their changes undone, the settlement stands.
    for (const [m, at, payload] of [
      [m2, PING_REVERTS, 'two'],
      [m3, PING_LOOPS, 'three'],
    ] as const) {
      const ack = keccak256(toHex(payload))
      const r = await a.send(RELAYER_KEY, await settle(m, ReceiptStatus.DELIVERED, ack))
      expect(r.status).toBe(1)
      expect(bridgeEvents(r).map((e) => (e.args as { ok?: boolean }).ok)).toEqual([undefined, false])
      expect(await read(a, at, 'acks')).toBe(0n)
      expect((await a.call(await settle(m, ReceiptStatus.DELIVERED, ack))).code).toBe('CONSENSUS_SHARD_NOT_PENDING')
    }
    // The failed message: refunded to PING, which is then called with status failed and no ack.
    const r4 = await a.send(RELAYER_KEY, await settle(m4, ReceiptStatus.FAILED, '0x'))
    expect(r4.status).toBe(1)
    expect(await a.balance(PING)).toBe(2n * ETH)
    expect(await read(a, PING, 'acks')).toBe(2n)
    expect(await read(a, PING, 'lastSequence')).toBe(4n)
    expect(await read(a, PING, 'lastStatus')).toBe(ReceiptStatus.FAILED)
    expect(await read(a, PING, 'lastAck')).toBe('0x')
    // An account without code (Alice's plain transfer) is not called.
    const plain = sentMessage(
      await a.send(
        ALICE_KEY,
        encodeFunctionData({ abi: bridgeAbi, functionName: 'send', args: [1, BOB, 1_000_000n, '0x'] }),
        ETH,
      ),
    )
    const h2 = a.height
    await syncClient(a, b, 0, h2)
    const pp = await a.proof(h2, commitmentSlot(1, plain.sequence))
    expect((await b.send(RELAYER_KEY, receiveCall(bytesToHex(encodeMessage(plain)), h2, pp))).status).toBe(1)
    const hb2 = b.height
    await syncClient(b, a, 1, hb2)
    const pr = await b.proof(hb2, receiptSlot(0, plain.sequence))
    const rp = await a.send(
      RELAYER_KEY,
      encodeFunctionData({
        abi: bridgeAbi,
        functionName: 'settle',
        args: [bytesToHex(encodeMessage(plain)), ReceiptStatus.DELIVERED, '0x', hb2, pr.accountProof, pr.storageProof],
      }),
      0n,
      { gasLimit: 300_000n },
    )
    expect(rp.status).toBe(1)
    expect(bridgeEvents(rp).map((e) => e.eventName)).toEqual(['MessageSettled'])
  }, 180_000)
})
