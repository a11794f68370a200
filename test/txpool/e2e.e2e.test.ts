import type { Hex } from '@cairn/utils'
import { bytesToHex, hexToBytes } from '@cairn/utils'
import { createFeeMarket1559Tx, createTxFromRLP, type TypedTransaction } from '@ethereumjs/tx'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GWEI } from '../../packages/txpool/test/helpers.ts'
import { rpc, type StartedNode, startDev } from './node-helpers.ts'

const SENDERS = 5
const NONCES = 36
const GAPS = new Set([5, 17, 29])
const RECIPIENT = '0x000000000000000000000000000000000000beef' as Hex

/**
 * 200-odd submissions through eth_sendRawTransaction against a real dev node (blocks only on
 * evm_mine): nonce gaps that queue, replacements at +9% (refused) and +10% (accepted), then the gaps
 * filled and the lot mined; checks what lands in the block.
 */
describe('eth_sendRawTransaction end to end: gaps, replacements, promotion, mining', () => {
  let node: StartedNode
  beforeAll(async () => {
    node = await startDev({ blockTime: 3600 })
  }, 60_000)
  afterAll(async () => {
    await node?.close()
  })

  const sign = (sender: number, nonce: number, tipGwei: bigint, value = 1n): TypedTransaction =>
    createFeeMarket1559Tx(
      {
        nonce: BigInt(nonce),
        to: RECIPIENT,
        value,
        gasLimit: 21000n,
        maxFeePerGas: 100n * GWEI + tipGwei * GWEI,
        maxPriorityFeePerGas: tipGwei * GWEI,
      },
      { common: node.chain.common },
    ).sign(node.accounts[sender]?.privateKey as Uint8Array)
  const send = (tx: TypedTransaction) => rpc(node.url, 'eth_sendRawTransaction', [bytesToHex(tx.serialize())])

  it('queues gaps, replaces at +10% only, promotes when gaps fill, mines everything in nonce order', async () => {
    /** Per sender the tip in gwei: sender 4 pays most. */
    const tip = (s: number) => BigInt(s + 1)
    const expected = new Map<string, string>() // `${sender}/${nonce}` -> hash that must be mined
    let submitted = 0

    // 1. everything but the gaps
    for (let n = 0; n < NONCES; n++) {
      for (let s = 0; s < SENDERS; s++) {
        if (GAPS.has(n)) continue
        const tx = sign(s, n, tip(s))
        const r = await send(tx)
        submitted++
        expect(r.result).toBe(bytesToHex(tx.hash()))
        expected.set(`${s}/${n}`, bytesToHex(tx.hash()))
      }
    }
    expect(node.pool.counts).toEqual({ pending: SENDERS * 5, queued: SENDERS * (NONCES - 5 - GAPS.size) })
    expect((await rpc(node.url, 'eth_getTransactionCount', [node.accounts[0]?.address, 'pending'])).result).toBe('0x5')

    // 2. replacements of every 7th nonce: +9% refused, +10% accepted (queued ones too)
    for (let s = 0; s < SENDERS; s++) {
      for (let n = 0; n < NONCES; n += 7) {
        if (GAPS.has(n)) continue
        const base = tip(s) * 100n
        const low = createFeeMarket1559Tx(
          {
            nonce: BigInt(n),
            to: RECIPIENT,
            value: 2n,
            gasLimit: 21000n,
            maxFeePerGas: ((100n * GWEI + tip(s) * GWEI) * 109n) / 100n,
            maxPriorityFeePerGas: (base * 109n * GWEI) / 10000n,
          },
          { common: node.chain.common },
        ).sign(node.accounts[s]?.privateKey as Uint8Array)
        const refused = await send(low)
        submitted++
        expect(refused.error?.message).toBe('replacement transaction underpriced')
        const high = createFeeMarket1559Tx(
          {
            nonce: BigInt(n),
            to: RECIPIENT,
            value: 3n,
            gasLimit: 21000n,
            maxFeePerGas: ((100n * GWEI + tip(s) * GWEI) * 110n) / 100n,
            maxPriorityFeePerGas: (base * 110n * GWEI) / 10000n,
          },
          { common: node.chain.common },
        ).sign(node.accounts[s]?.privateKey as Uint8Array)
        const accepted = await send(high)
        submitted++
        expect(accepted.result).toBe(bytesToHex(high.hash()))
        expected.set(`${s}/${n}`, bytesToHex(high.hash()))
      }
    }
    expect(node.pool.size).toBe(SENDERS * (NONCES - GAPS.size))

    // 3. fill the gaps: everything is executable
    for (const n of GAPS) {
      for (let s = 0; s < SENDERS; s++) {
        const tx = sign(s, n, tip(s))
        expect((await send(tx)).result).toBe(bytesToHex(tx.hash()))
        submitted++
        expected.set(`${s}/${n}`, bytesToHex(tx.hash()))
      }
    }
    expect(submitted).toBeGreaterThanOrEqual(200)
    expect(node.pool.counts).toEqual({ pending: SENDERS * NONCES, queued: 0 })

    // 4. mine: one block takes all 180 (30M gas), by tip and in nonce order per sender
    await rpc(node.url, 'evm_mine')
    expect(node.pool.size).toBe(0)
    const block = (await rpc(node.url, 'eth_getBlockByNumber', ['latest', false])).result as { transactions: string[] }
    expect(block.transactions).toHaveLength(SENDERS * NONCES)
    expect(new Set(block.transactions)).toEqual(new Set(expected.values()))
    const txs = await Promise.all(
      block.transactions.map(async (h) => {
        const t = (await rpc(node.url, 'eth_getTransactionByHash', [h])).result as { from: string; nonce: string }
        return { from: t.from.toLowerCase(), nonce: Number(t.nonce) }
      }),
    )
    const lastNonce = new Map<string, number>()
    for (const t of txs) {
      expect(t.nonce).toBe((lastNonce.get(t.from) ?? -1) + 1)
      lastNonce.set(t.from, t.nonce)
    }
    // the best-paying sender goes first
    expect(txs[0]?.from).toBe(node.accounts[SENDERS - 1]?.address.toLowerCase())
    for (let s = 0; s < SENDERS; s++) {
      const count = await rpc(node.url, 'eth_getTransactionCount', [node.accounts[s]?.address, 'latest'])
      expect(count.result).toBe(`0x${NONCES.toString(16)}`)
    }
    // a replaced original never landed
    const original = sign(0, 7, tip(0))
    expect((await rpc(node.url, 'eth_getTransactionReceipt', [bytesToHex(original.hash())])).result).toBeNull()
    // and the mined replacement decodes to the +10% bid
    const raw = (await rpc(node.url, 'eth_getRawTransactionByHash', [expected.get('0/7')])).result as Hex | undefined
    if (raw) expect(createTxFromRLP(hexToBytes(raw), { common: node.chain.common }).value).toBe(3n)
  }, 120_000)
})
