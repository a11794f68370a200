/**
 * `cairn_getCrossShardTransaction` over shards that answer from fixed event logs: each status in
 * turn (sent, relayed, delivered, acknowledged; expired then refunded), found by the message's hash
 * or by the hash of the transaction that sent it; null for a hash no shard knows.
 */
import { BRIDGE_ADDRESS, bridgeAbi, encodeMessage, messageHash } from '@cairn/consensus/shard'
import { bytesToHex, encodeAbiParameters, encodeEventTopics, encodeFunctionResult, type Hex } from 'viem'
import { describe, expect, it } from 'vitest'
import { crossShardTransaction } from '../../src/gateway/cross-shard-status.ts'

const message = {
  sourceShard: 0,
  destShard: 1,
  sequence: 7n,
  sender: new Uint8Array(20).fill(0xa1),
  receiver: new Uint8Array(20).fill(0xb0),
  value: 10n ** 18n,
  data: new Uint8Array(),
  timeoutHeight: 1000n,
}
const hash = bytesToHex(messageHash(message))
const SEND_TX = `0x${'5e'.repeat(32)}` as Hex

interface Log {
  address: Hex
  topics: Hex[]
  data: Hex
  blockNumber: Hex
  transactionHash: Hex
}

function log(event: string, args: Record<string, unknown>, data: Hex, block: number, tx: Hex): Log {
  return {
    address: BRIDGE_ADDRESS,
    topics: encodeEventTopics({ abi: bridgeAbi, eventName: event as never, args: args as never }) as Hex[],
    data,
    blockNumber: `0x${block.toString(16)}`,
    transactionHash: tx,
  }
}

const sent = log(
  'MessageSent',
  { hash, destShard: 1, sequence: 7n },
  encodeAbiParameters([{ type: 'bytes' }], [bytesToHex(encodeMessage(message))]),
  5,
  SEND_TX,
)
const received = (status: number) =>
  log(
    'MessageReceived',
    { hash, sourceShard: 0, sequence: 7n },
    encodeAbiParameters([{ type: 'uint8' }, { type: 'bytes' }], [status, '0x']),
    9,
    `0x${'aa'.repeat(32)}`,
  )
const settled = (refunded: boolean) =>
  log(
    'MessageSettled',
    { hash, destShard: 1, sequence: 7n },
    encodeAbiParameters([{ type: 'bool' }], [refunded]),
    12,
    `0x${'bb'.repeat(32)}`,
  )

/** Two shards answering eth_getLogs from `logs[shard]`, a receipt for SEND_TX on shard 0, clientHeight `client`. */
function shards(logs: Log[][], client: bigint) {
  return async (shard: number, method: string, params: unknown[]) => {
    if (method === 'eth_getLogs') {
      const topics = (params[0] as { topics: (Hex | null)[] }).topics
      return { result: (logs[shard] ?? []).filter((l) => l.topics[0] === topics[0] && l.topics[1] === topics[1]) }
    }
    if (method === 'eth_getTransactionReceipt') {
      return { result: shard === 0 && params[0] === SEND_TX ? { logs: [sent] } : null }
    }
    if (method === 'eth_call') {
      return { result: encodeFunctionResult({ abi: bridgeAbi, functionName: 'clientHeight', result: client }) }
    }
    return { error: { message: 'no such method' } }
  }
}

describe('cairn_getCrossShardTransaction', () => {
  it('follows a message from sent to acknowledged, by its hash or its transaction', async () => {
    const at = (logs: Log[][], client = 0n) => crossShardTransaction(shards(logs, client), 2, hash)
    expect(await at([[sent], []])).toMatchObject({
      status: 'sent',
      sourceShard: 0,
      destShard: 1,
      sequence: '0x7',
      value: '0xde0b6b3a7640000',
      sent: { blockNumber: '0x5', transactionHash: SEND_TX },
    })
    expect((await at([[sent], []], 4n))?.status).toBe('sent')
    expect((await at([[sent], []], 5n))?.status).toBe('relayed')
    expect((await at([[sent], [received(1)]], 5n))?.status).toBe('delivered')
    const done = await at([[sent, settled(false)], [received(1)]], 5n)
    expect(done).toMatchObject({
      status: 'acknowledged',
      received: { outcome: 'delivered', blockNumber: '0x9' },
      settled: { refunded: false, blockNumber: '0xc' },
    })
    expect(await crossShardTransaction(shards([[sent, settled(false)], [received(1)]], 5n), 2, SEND_TX)).toEqual(done)
  })

  it('says expired, then refunded; null for an unknown hash', async () => {
    expect((await crossShardTransaction(shards([[sent], [received(3)]], 9n), 2, hash))?.status).toBe('expired')
    expect((await crossShardTransaction(shards([[sent, settled(true)], [received(3)]], 9n), 2, hash))?.status).toBe(
      'refunded',
    )
    expect(await crossShardTransaction(shards([[], []], 0n), 2, `0x${'00'.repeat(32)}`)).toBeNull()
  })
})
