import { deriveAccounts, ecdsaSign, keccak256 } from '@cairn/crypto'
import { bytesToHex, hexToBytes } from '@cairn/utils'
import { type Hex, serializeTransaction } from 'viem'
import { recipientAddress } from './reads.ts'
import { RpcClient } from './rpc-client.ts'

export const DEV_MNEMONIC = 'test test test test test test test test test test test junk'

export interface TransferOptions {
  count: number
  senders: number
  batch: number
  /** Give up waiting for inclusion after this long. */
  waitMs: number
}

export interface TransferResult {
  accepted: number
  mined: number
  blocks: number
  /** Blocks of the run that held none of its transfers (an instant-sealing node should seal none). */
  emptyBlocks: number
  seconds: number
  sendSeconds: number
  tps: number
  /** Submission (batch sent) to first seen in a block, in ms. */
  p50Ms: number
  p99Ms: number
  p90Ms: number
  maxMs: number
  firstError?: string
}

/**
 * Pre-signs `count` EIP-1559 value transfers (1 wei each to fresh addresses) from the dev
 * accounts, as /work/shared/tools/loadgen.mjs does, then sends them as sequential JSON-RPC batches
 * of eth_sendRawTransaction while a poller walks new blocks: the rate is mined transfers over the
 * time from the first send to the last inclusion; latency is from a batch's send to the poll that
 * saw its transaction in a block (20 ms polling granularity).
 */
export async function runTransfers(url: string, opts: TransferOptions): Promise<TransferResult> {
  const client = new RpcClient(url, 4)
  const chainId = Number(await client.call<Hex>('eth_chainId'))
  const accounts = deriveAccounts(DEV_MNEMONIC, opts.senders)
  const nonces: number[] = []
  for (const a of accounts)
    nonces.push(Number(await client.call<Hex>('eth_getTransactionCount', [a.address, 'pending'])))
  const head = await client.call<{ baseFeePerGas?: Hex }>('eth_getBlockByNumber', ['latest', false])
  // A fee cap that sustained full blocks (base fee +12.5% each) do not overtake within the run:
  // 4× the base fee priced Anvil's tail out after ~12 full one-second blocks at 100,000 transfers.
  const baseCap = BigInt(head.baseFeePerGas ?? '0x3b9aca00') * 4n + 10n ** 9n
  const maxFee = baseCap > 10n ** 13n ? baseCap : 10n ** 13n
  const raws: Hex[] = []
  const hashes: string[] = []
  for (let i = 0; i < opts.count; i++) {
    const j = i % accounts.length
    const a = accounts[j] as (typeof accounts)[number]
    const to = recipientAddress(i) as Hex
    const tx = {
      type: 'eip1559',
      chainId,
      nonce: (nonces[j] as number) + Math.floor(i / accounts.length),
      to,
      value: 1n,
      gas: 21000n,
      maxFeePerGas: maxFee,
      maxPriorityFeePerGas: 10n ** 9n,
    } as const
    const sig = ecdsaSign(keccak256(hexToBytes(serializeTransaction(tx))), a.privateKey)
    const raw = serializeTransaction(tx, { r: bytesToHex(sig.r), s: bytesToHex(sig.s), yParity: sig.recovery })
    raws.push(raw)
    hashes.push(bytesToHex(keccak256(hexToBytes(raw))))
  }

  const sentAt = new Map<string, number>()
  const latencies: number[] = []
  let startBlock = Number(await client.call<Hex>('eth_blockNumber'))
  let mined = 0
  let blocks = 0
  let emptyBlocks = 0
  let sending = true
  let accepted = 0
  let firstError: string | undefined
  let lastInclusion = 0
  const poller = (async () => {
    const deadline = () => Date.now() + opts.waitMs
    let until = deadline()
    while ((sending || mined < accepted) && Date.now() < until) {
      const headNum = Number(await client.call<Hex>('eth_blockNumber'))
      const now = performance.now()
      while (startBlock < headNum) {
        startBlock++
        const b = await client.call<{ transactions: string[] }>('eth_getBlockByNumber', [
          `0x${startBlock.toString(16)}`,
          false,
        ])
        blocks++
        let ours = 0
        for (const h of b.transactions) {
          const t = sentAt.get(h)
          if (t !== undefined) {
            latencies.push(now - t)
            mined++
            ours++
            lastInclusion = now
          }
        }
        if (ours === 0) emptyBlocks++
      }
      if (sending) until = deadline()
      await new Promise((r) => setTimeout(r, 20))
    }
  })()

  const t0 = performance.now()
  for (let i = 0; i < raws.length; i += opts.batch) {
    const now = performance.now()
    const chunk = raws.slice(i, i + opts.batch)
    for (let k = 0; k < chunk.length; k++) sentAt.set(hashes[i + k] as string, now)
    const res = await client.batch(chunk.map((raw) => ['eth_sendRawTransaction', [raw]]))
    for (const r of res) {
      if (!r.error) accepted++
      else firstError ??= JSON.stringify(r.error)
    }
  }
  const tSent = performance.now()
  sending = false
  await poller
  client.close()
  latencies.sort((a, b) => a - b)
  const q = (p: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0)
  const seconds = ((lastInclusion || performance.now()) - t0) / 1000
  return {
    accepted,
    mined,
    blocks,
    emptyBlocks,
    seconds: +seconds.toFixed(3),
    sendSeconds: +((tSent - t0) / 1000).toFixed(3),
    tps: Math.round(mined / seconds),
    p50Ms: q(0.5),
    p99Ms: q(0.99),
    p90Ms: q(0.9),
    maxMs: Math.round(latencies[latencies.length - 1] ?? 0),
    ...(firstError ? { firstError } : {}),
  }
}
