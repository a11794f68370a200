// `pending` calls run in the block the transaction will be mined in: a probe contract returns (and,
// in a transaction, stores) what the EVM sees of its block — NUMBER, TIMESTAMP, COINBASE, PREVRANDAO,
// GASLIMIT, BASEFEE, BLOBBASEFEE, GASPRICE, BLOCKHASH(NUMBER - 1) — and the eth_call at `pending`
// must answer what the mined transaction then stored. `latest` calls stay in the head's block, and
// the eth_call cache never mixes the two.
import { silentLogger } from '@cairn/utils'
import { createPublicClient, type Hex, http, numberToHex, toHex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load.ts'
import { type StartedNode, startNode } from '../../src/node.ts'
import { devAccount, devChain } from '../e2e/helpers.ts'

const FROM = devAccount(0).address
const GWEI = 10n ** 9n

/** What the probe reports, word by word. */
const FIELDS = [
  'number',
  'timestamp',
  'coinbase',
  'prevRandao',
  'gasLimit',
  'baseFee',
  'blobBaseFee',
  'gasPrice',
  'parentHash',
] as const
type Seen = Record<(typeof FIELDS)[number], bigint>

/**
 * Runtime: for each of NUMBER, TIMESTAMP, COINBASE, PREVRANDAO, GASLIMIT, BASEFEE, BLOBBASEFEE,
 * GASPRICE and BLOCKHASH(NUMBER - 1): SSTORE(i, v) and MSTORE(32 i, v); then RETURN the 9 words.
 */
const PROBE_RUNTIME = (() => {
  const ops = ['43', '42', '41', '44', '45', '48', '4a', '3a', '4360019003' + '40']
  let code = ''
  ops.forEach((op, i) => {
    const slot = i.toString(16).padStart(2, '0')
    const offset = (i * 32).toString(16).padStart(4, '0')
    code += `${op}80 60${slot} 55 61${offset} 52`
  })
  return `${code}610120 6000 f3`.replace(/ /g, '')
})()

/** Init code returning `runtime` (at most 255 bytes). */
function deployer(runtime: string): Hex {
  const len = (runtime.length / 2).toString(16).padStart(2, '0')
  return `0x60${len}600c60003960${len}6000f3${runtime}`
}

let node: StartedNode
let probe: Hex
const client = () =>
  createPublicClient({ chain: devChain, transport: http(node.url), cacheTime: 0, pollingInterval: 10 })
const rpc = <T>(method: string, params: unknown[] = []) =>
  client().request({ method: method as never, params: params as never }) as Promise<T>

function decode(output: Hex): Seen {
  const words = (output.slice(2).match(/.{64}/g) ?? []).map((w) => BigInt(`0x${w}`))
  return Object.fromEntries(FIELDS.map((f, i) => [f, words[i]])) as Seen
}

async function mined(hash: Hex) {
  const receipt = await client().waitForTransactionReceipt({ hash, pollingInterval: 10 })
  expect(receipt.status).toBe('success')
  return receipt
}

/** What the probe stored in the transaction mined in `blockNumber`. */
async function stored(blockNumber: bigint): Promise<Seen> {
  const words = await Promise.all(
    FIELDS.map((_, i) => rpc<Hex>('eth_getStorageAt', [probe, toHex(i), numberToHex(blockNumber)])),
  )
  return decode(`0x${words.map((w) => w.slice(2).padStart(64, '0')).join('')}`)
}

beforeAll(async () => {
  const config = loadConfig({
    flags: { dev: true, ephemeral: true, 'http.port': 0, 'http.addr': '127.0.0.1', 'log.level': 'silent' },
    env: {},
  })
  node = await startNode(config, { logger: silentLogger })
  const receipt = await mined(await rpc<Hex>('eth_sendTransaction', [{ from: FROM, data: deployer(PROBE_RUNTIME) }]))
  probe = receipt.contractAddress as Hex
})

afterAll(async () => {
  await node?.close()
})

describe('eth_call at pending: the block the transaction is mined in', () => {
  it('sees the mined block’s number, timestamp, coinbase, prevRandao, gas limit, base fee, blob base fee, parent hash, and the effective gas price', async () => {
    const head = await client().getBlock()
    await rpc('evm_setNextBlockTimestamp', [Number(head.timestamp + 7n)])
    // maxFee above the next base fee + tip: the price is baseFee + tip, not the cap.
    const fees = { maxFeePerGas: toHex(50n * GWEI), maxPriorityFeePerGas: toHex(3n * GWEI) }
    const call = { from: FROM, to: probe, ...fees }
    const pending = decode(await rpc<Hex>('eth_call', [call, 'pending']))
    const latest = decode(await rpc<Hex>('eth_call', [call, 'latest']))
    const receipt = await mined(await rpc<Hex>('eth_sendTransaction', [{ ...call, gas: toHex(300_000n) }]))
    const block = await client().getBlock({ blockNumber: receipt.blockNumber })
    expect(pending).toEqual(await stored(receipt.blockNumber))
    expect(pending.number).toBe(head.number + 1n)
    expect(pending.timestamp).toBe(head.timestamp + 7n)
    expect(pending.parentHash).toBe(BigInt(head.hash))
    expect(pending.baseFee).toBe(block.baseFeePerGas)
    expect(pending.gasPrice).toBe((block.baseFeePerGas ?? 0n) + 3n * GWEI)
    expect(pending.gasPrice).toBe(receipt.effectiveGasPrice)
    // `latest` is the head's own block.
    expect(latest.number).toBe(head.number)
    expect(latest.timestamp).toBe(head.timestamp)
    expect(latest.baseFee).toBe(head.baseFeePerGas)
  })

  it('a capped fee: GASPRICE is maxFeePerGas when baseFee + tip exceeds it; a legacy gasPrice is the price; no price: GASPRICE and BASEFEE 0', async () => {
    const baseFee = (await client().getBlock()).baseFeePerGas ?? 0n
    const capped = {
      from: FROM,
      to: probe,
      maxFeePerGas: toHex(baseFee * 2n),
      maxPriorityFeePerGas: toHex(baseFee * 2n),
    }
    // The next base fee is below twice this one (an empty block lowers it), so the cap binds.
    expect(decode(await rpc<Hex>('eth_call', [capped, 'pending'])).gasPrice).toBe(baseFee * 2n)
    const legacy = { from: FROM, to: probe, gasPrice: toHex(baseFee * 3n) }
    expect(decode(await rpc<Hex>('eth_call', [legacy, 'pending'])).gasPrice).toBe(baseFee * 3n)
    // No price at all: as geth, GASPRICE and BASEFEE are both 0 (recorded: execution-apis call-callenv).
    for (const tag of ['latest', 'pending']) {
      const free = decode(await rpc<Hex>('eth_call', [{ from: FROM, to: probe }, tag]))
      expect([free.gasPrice, free.baseFee]).toEqual([0n, 0n])
    }
    const tooHigh = { from: FROM, to: probe, maxFeePerGas: toHex(1n), maxPriorityFeePerGas: toHex(2n) }
    await expect(rpc('eth_call', [tooHigh, 'pending'])).rejects.toThrow(
      /max priority fee per gas higher than max fee per gas/,
    )
  })

  it('after evm_increaseTime the pending block carries the offset', async () => {
    const before = BigInt(Math.floor(Date.now() / 1000))
    await rpc('evm_increaseTime', [100_000])
    const pending = decode(await rpc<Hex>('eth_call', [{ to: probe }, 'pending']))
    expect(pending.timestamp).toBeGreaterThanOrEqual(before + 100_000n)
    const receipt = await mined(
      await rpc<Hex>('eth_sendTransaction', [{ from: FROM, to: probe, gas: toHex(300_000n) }]),
    )
    expect((await stored(receipt.blockNumber)).timestamp).toBeGreaterThanOrEqual(pending.timestamp)
  })

  it('the eth_call cache keeps latest and pending apart, in either order, across new heads', async () => {
    for (let round = 0; round < 3; round++) {
      const head = (await client().getBlock()).number
      const order = round % 2 === 0 ? (['latest', 'pending'] as const) : (['pending', 'latest'] as const)
      for (let again = 0; again < 2; again++) {
        for (const tag of order) {
          const seen = decode(await rpc<Hex>('eth_call', [{ to: probe }, tag]))
          expect(seen.number, `${tag} at head ${head}`).toBe(tag === 'latest' ? head : head + 1n)
        }
      }
      await rpc('evm_mine')
    }
  })
})
