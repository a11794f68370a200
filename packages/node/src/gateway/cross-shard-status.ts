/**
 * `cairn_getCrossShardTransaction(hash)`: where a cross-shard message is, read from the bridges'
 * events on the shards (the gateway keeps nothing). `hash` is the message's hash (`MessageSent`'s
 * first topic) or the hash of the transaction that sent it. The status moves
 *
 *   sent → relayed → delivered → acknowledged        (credited on the destination)
 *   sent → relayed → expired | failed → refunded     (nothing credited; the value back to its sender)
 *
 * sent: the source committed to it; relayed: the destination's light client has verified the
 * source's header that holds it (a relayer can now deliver it); delivered / expired / failed: the
 * destination decided it (`MessageReceived`); acknowledged / refunded: the source settled it by
 * proof of that decision (`MessageSettled`). null when no shard knows the hash.
 */
import { BRIDGE_ADDRESS, bridgeAbi, decodeMessage } from '@cairn/consensus/shard'
import { decodeEventLog, decodeFunctionResult, encodeEventTopics, encodeFunctionData, type Hex, hexToBytes } from 'viem'

type Ask = (shard: number, method: string, params: unknown[]) => Promise<{ result?: unknown; error?: unknown }>

export type CrossShardStatus = 'sent' | 'relayed' | 'delivered' | 'expired' | 'failed' | 'acknowledged' | 'refunded'

interface RpcLog {
  topics: [Hex, ...Hex[]]
  data: Hex
  blockNumber: Hex
  transactionHash: Hex
}

export interface CrossShardTransaction {
  hash: Hex
  status: CrossShardStatus
  sourceShard: number
  destShard: number
  sequence: Hex
  sender: Hex
  receiver: Hex
  value: Hex
  timeoutHeight: Hex
  sent: { blockNumber: Hex; transactionHash: Hex }
  received?: { blockNumber: Hex; transactionHash: Hex; outcome: 'delivered' | 'failed' | 'expired' }
  settled?: { blockNumber: Hex; transactionHash: Hex; refunded: boolean }
}

const OUTCOME = { 1: 'delivered', 2: 'failed', 3: 'expired' } as const

async function logs(ask: Ask, shard: number, event: 'MessageSent' | 'MessageReceived' | 'MessageSettled', hash: Hex) {
  const topics = encodeEventTopics({ abi: bridgeAbi, eventName: event, args: { hash } as never })
  const a = await ask(shard, 'eth_getLogs', [{ address: BRIDGE_ADDRESS, topics, fromBlock: '0x0', toBlock: 'latest' }])
  return Array.isArray(a.result) ? (a.result as RpcLog[]) : []
}

const decode = (l: RpcLog) => decodeEventLog({ abi: bridgeAbi, topics: l.topics, data: l.data })

/** The message's `MessageSent` log and its shard: by message hash, else by the sending transaction's hash. */
async function findSent(ask: Ask, shards: number, hash: Hex): Promise<{ shard: number; log: RpcLog } | undefined> {
  for (let s = 0; s < shards; s++) {
    const found = (await logs(ask, s, 'MessageSent', hash).catch(() => []))[0]
    if (found) return { shard: s, log: found }
  }
  const sentSig = encodeEventTopics({ abi: bridgeAbi, eventName: 'MessageSent' })[0]
  for (let s = 0; s < shards; s++) {
    const r = (await ask(s, 'eth_getTransactionReceipt', [hash]).catch(() => ({ result: null }))).result as {
      logs?: (RpcLog & { address: Hex })[]
      blockNumber: Hex
      transactionHash: Hex
    } | null
    const log = r?.logs?.find((l) => l.address.toLowerCase() === BRIDGE_ADDRESS && l.topics[0] === sentSig)
    if (log) return { shard: s, log }
  }
  return undefined
}

export async function crossShardTransaction(
  ask: Ask,
  shards: number,
  hash: Hex,
): Promise<CrossShardTransaction | null> {
  const sent = await findSent(ask, shards, hash)
  if (!sent) return null
  const ev = decode(sent.log)
  if (ev.eventName !== 'MessageSent') return null
  const m = decodeMessage(hexToBytes(ev.args.message))
  const messageHash = ev.args.hash
  const out: CrossShardTransaction = {
    hash: messageHash,
    status: 'sent',
    sourceShard: m.sourceShard,
    destShard: m.destShard,
    sequence: `0x${m.sequence.toString(16)}`,
    sender: `0x${Buffer.from(m.sender).toString('hex')}`,
    receiver: `0x${Buffer.from(m.receiver).toString('hex')}`,
    value: `0x${m.value.toString(16)}`,
    timeoutHeight: `0x${m.timeoutHeight.toString(16)}`,
    sent: { blockNumber: sent.log.blockNumber, transactionHash: sent.log.transactionHash },
  }
  if (m.destShard >= shards) return out
  const [received] = await logs(ask, m.destShard, 'MessageReceived', messageHash).catch(() => [])
  if (received) {
    const r = decode(received)
    const outcome = r.eventName === 'MessageReceived' ? (OUTCOME[r.args.status as 1 | 2 | 3] ?? 'failed') : 'failed'
    out.received = { blockNumber: received.blockNumber, transactionHash: received.transactionHash, outcome }
    out.status = outcome
    const [settled] = await logs(ask, m.sourceShard, 'MessageSettled', messageHash).catch(() => [])
    if (settled) {
      const st = decode(settled)
      const refunded = st.eventName === 'MessageSettled' && st.args.refunded
      out.settled = { blockNumber: settled.blockNumber, transactionHash: settled.transactionHash, refunded }
      out.status = refunded ? 'refunded' : 'acknowledged'
    }
    return out
  }
  // Not decided yet: relayed once the destination's light client holds the sending block.
  const data = encodeFunctionData({ abi: bridgeAbi, functionName: 'clientHeight', args: [m.sourceShard] })
  const a = await ask(m.destShard, 'eth_call', [{ to: BRIDGE_ADDRESS, data }, 'latest']).catch(() => ({
    result: undefined,
  }))
  if (typeof a.result === 'string') {
    const height = decodeFunctionResult({ abi: bridgeAbi, functionName: 'clientHeight', data: a.result as Hex })
    if (height >= BigInt(sent.log.blockNumber)) out.status = 'relayed'
  }
  return out
}
