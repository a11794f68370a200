// A dev node under a flood of raw transactions (JSON-RPC batches, as load generators send them)
// faster than it seals: senders are slowed down until blocks drain the pool (DevEngine.admit)
// instead of being refused with "txpool is full", which would strand every later nonce of the
// refused sender. A small pool (txpool.globalSlots 40) makes the flood outrun sealing at once.
import { deriveAccounts } from '@cairn/crypto'
import { bytesToHex, type Hex } from '@cairn/utils'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { post, type RpcResponse, result, type StartedNode, startDevNode } from './live-node.ts'

const MNEMONIC = 'test test test test test test test test test test test junk'

describe('dev mode: a flood of transactions waits for blocks instead of filling the pool', () => {
  let node: StartedNode
  beforeAll(async () => {
    node = await startDevNode({}, { flags: { 'txpool.globalSlots': 40 } })
  })
  afterAll(() => node?.close())

  it('accepts and mines 600 transfers sent in batches of 100 through a 40-slot pool', async () => {
    const senders = deriveAccounts(MNEMONIC, 3)
    const raws: Hex[] = []
    for (let i = 0; i < 600; i++) {
      const s = senders[i % senders.length] as (typeof senders)[number]
      const tx = createFeeMarket1559Tx(
        {
          nonce: BigInt(Math.floor(i / senders.length)),
          to: `0x${(0x1000 + i).toString(16).padStart(40, '0')}`,
          value: 1n,
          gasLimit: 21_000n,
          maxFeePerGas: 10n ** 11n,
          maxPriorityFeePerGas: 10n ** 9n,
        },
        { common: node.chain.common },
      ).sign(s.privateKey)
      raws.push(bytesToHex(tx.serialize()))
    }
    const start = BigInt(await result<Hex>(node.url, 'eth_blockNumber'))
    const errors: unknown[] = []
    for (let i = 0; i < raws.length; i += 100) {
      const batch = raws.slice(i, i + 100).map((raw, k) => ({
        jsonrpc: '2.0',
        id: i + k,
        method: 'eth_sendRawTransaction',
        params: [raw],
      }))
      const answers = (await post(node.url, batch)).json as RpcResponse[]
      for (const a of answers) if (a.error) errors.push(a.error)
    }
    expect(errors).toEqual([])
    const deadline = Date.now() + 30_000
    let mined = 0
    for (let n = start + 1n; mined < raws.length; ) {
      const head = BigInt(await result<Hex>(node.url, 'eth_blockNumber'))
      for (; n <= head; n++) {
        mined += Number(await result<Hex>(node.url, 'eth_getBlockTransactionCountByNumber', [`0x${n.toString(16)}`]))
      }
      if (Date.now() > deadline) throw new Error(`only ${mined} of ${raws.length} mined within 30 s`)
      if (mined < raws.length) await new Promise((r) => setTimeout(r, 20))
    }
    expect(mined).toBe(raws.length)
    // The pool drops a block's transactions just after the block becomes the head.
    let status: unknown
    for (let i = 0; i < 100; i++) {
      status = await result(node.url, 'txpool_status')
      if (JSON.stringify(status) === JSON.stringify({ pending: '0x0', queued: '0x0' })) break
      await new Promise((r) => setTimeout(r, 20))
    }
    expect(status).toEqual({ pending: '0x0', queued: '0x0' })
  }, 60_000)
})
