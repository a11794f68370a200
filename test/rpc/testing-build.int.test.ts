// testing_buildBlockV1 (geth's testing namespace): builds a block on the head and returns its
// execution payload without importing it. Differential: the same transactions sealed by the dev
// engine with the same timestamp, fee recipient and prevRandao give the same state root, receipts
// root, bloom and gas; the head, the pool and the state stay as they were; a transaction that
// cannot run is an error (-32000), as geth (rpc-compat testing_buildBlockV1/*).
import { createChainCommon } from '@cairn/chain'
import { keccak256 } from '@cairn/crypto'
import { bytesToHex, hexToBytes } from '@cairn/utils'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BUILD_GAS_CEILING, nextGasLimit } from '../../packages/rpc/src/methods/testing.ts'
import { ACCOUNT_0, deploy, EMITTER_RUNTIME } from './bytecode.ts'
import { call, result, type StartedNode, startDevNode } from './live-node.ts'

type Obj = Record<string, unknown>
type Payload = Record<string, string | string[] | Obj[]>

const common = createChainCommon({ chainId: 1337n, hardfork: 'osaka' })
const KEY_0 = hexToBytes('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80')

let node: StartedNode
let url: string
beforeAll(async () => {
  node = await startDevNode({}, { flags: { blockTime: 3600 } })
  url = node.url
})
afterAll(async () => {
  await node?.close()
})

/** geth's payload attributes for the block after `head`, with the dev engine's own choices. */
function attributes(head: Obj, timestamp: bigint) {
  return {
    timestamp: `0x${timestamp.toString(16)}`,
    prevRandao: bytesToHex(keccak256(hexToBytes(head.hash as string))),
    suggestedFeeRecipient: head.miner,
    withdrawals: [],
    parentBeaconBlockRoot: `0x${'00'.repeat(32)}`,
  }
}

describe('nextGasLimit', () => {
  it("moves toward the ceiling by parent/1024 - 1, as geth's CalcGasLimit (rpc-compat: 200M → 0xbe8c711)", () => {
    expect(nextGasLimit(200_000_000n, BUILD_GAS_CEILING)).toBe(0xbe8c711n)
    expect(nextGasLimit(30_000_000n, BUILD_GAS_CEILING)).toBe(30_000_000n + 30_000_000n / 1024n - 1n)
    expect(nextGasLimit(60_000_100n, BUILD_GAS_CEILING)).toBe(BUILD_GAS_CEILING)
    expect(nextGasLimit(BUILD_GAS_CEILING, BUILD_GAS_CEILING)).toBe(BUILD_GAS_CEILING)
  })
})

describe('testing_buildBlockV1', () => {
  it('builds from the pool what the dev engine then seals, and imports nothing', async () => {
    const emitter = await deploy(url, EMITTER_RUNTIME, { mine: true })
    const hashes = [
      await result<string>(url, 'eth_sendTransaction', [{ from: ACCOUNT_0, to: emitter }]),
      await result<string>(url, 'eth_sendTransaction', [{ from: ACCOUNT_0, to: `0x${'11'.repeat(20)}`, value: '0x7' }]),
    ]
    const head = await result<Obj>(url, 'eth_getBlockByNumber', ['latest', false])
    const timestamp = BigInt(head.timestamp as string) + 12n
    const env = await result<Obj>(url, 'testing_buildBlockV1', [head.hash, attributes(head, timestamp), null, null])
    const p = env.executionPayload as Payload
    // Nothing imported, nothing taken from the pool.
    expect(await result<Obj>(url, 'eth_getBlockByNumber', ['latest', false])).toEqual(head)
    expect(await result<Obj>(url, 'txpool_status')).toMatchObject({ pending: '0x2' })

    await result(url, 'evm_setNextBlockTimestamp', [`0x${timestamp.toString(16)}`])
    await result(url, 'evm_mine')
    const sealed = await result<Obj>(url, 'eth_getBlockByNumber', ['latest', false])
    expect(sealed.transactions).toEqual(hashes)
    expect((p.transactions as string[]).map((raw) => bytesToHex(keccak256(hexToBytes(raw))))).toEqual(hashes)
    for (const [mine, theirs] of [
      ['parentHash', 'parentHash'],
      ['stateRoot', 'stateRoot'],
      ['receiptsRoot', 'receiptsRoot'],
      ['logsBloom', 'logsBloom'],
      ['gasUsed', 'gasUsed'],
      ['blockNumber', 'number'],
      ['timestamp', 'timestamp'],
      ['baseFeePerGas', 'baseFeePerGas'],
      ['prevRandao', 'mixHash'],
      ['feeRecipient', 'miner'],
      ['blobGasUsed', 'blobGasUsed'],
      ['excessBlobGas', 'excessBlobGas'],
    ] as const) {
      expect(p[mine], mine).toBe(sealed[theirs])
    }
    // Only the gas limit differs: geth's builder moves it toward its ceiling, the dev engine keeps it.
    expect(BigInt(p.gasLimit as string)).toBe(nextGasLimit(BigInt(head.gasLimit as string), BUILD_GAS_CEILING))
    expect(p.withdrawals).toEqual([])
    // What the fee recipient earns: each transaction's gas times its tip over the base fee.
    const receipts = await result<Obj[]>(url, 'eth_getBlockReceipts', [sealed.number])
    const baseFee = BigInt(sealed.baseFeePerGas as string)
    const value = receipts.reduce(
      (sum, r) => sum + BigInt(r.gasUsed as string) * (BigInt(r.effectiveGasPrice as string) - baseFee),
      0n,
    )
    expect(BigInt(env.blockValue as string)).toBe(value)
    expect(value).toBeGreaterThan(0n)
    expect(env).toMatchObject({
      blobsBundle: { commitments: [], proofs: [], blobs: [] },
      executionRequests: [],
      shouldOverrideBuilder: false,
    })
  })

  it('builds exactly the given transactions; one that cannot run is -32000 and changes nothing', async () => {
    const head = await result<Obj>(url, 'eth_getBlockByNumber', ['latest', false])
    const nonce = BigInt(await result<string>(url, 'eth_getTransactionCount', [ACCOUNT_0, 'latest']))
    const sign = (n: bigint) =>
      bytesToHex(
        createFeeMarket1559Tx(
          {
            nonce: n,
            to: `0x${'22'.repeat(20)}`,
            value: 1n,
            gasLimit: 21_000n,
            maxFeePerGas: 10n ** 11n,
            maxPriorityFeePerGas: 500n,
          },
          { common },
        )
          .sign(KEY_0)
          .serialize(),
      )
    const attrs = attributes(head, BigInt(head.timestamp as string) + 1n)
    const ok = await result<Obj>(url, 'testing_buildBlockV1', [head.hash, attrs, [sign(nonce)], '0x746573745f6e616d65'])
    const p = ok.executionPayload as Payload
    expect(p.transactions).toEqual([sign(nonce)])
    expect(p.gasUsed).toBe('0x5208')
    expect(p.extraData).toBe('0x746573745f6e616d65')
    expect(ok.blockValue).toBe(`0x${(21_000n * 500n).toString(16)}`)
    const empty = await result<Obj>(url, 'testing_buildBlockV1', [head.hash, attrs, []])
    expect((empty.executionPayload as Payload).transactions).toEqual([])

    const bad = await call(url, 'testing_buildBlockV1', [head.hash, attrs, [sign(nonce + 999n)], '0x'])
    expect(bad.error?.code).toBe(-32000)
    expect(bad.error?.message).toMatch(/nonce/)
    const stale = await call(url, 'testing_buildBlockV1', [head.parentHash, attrs, [], '0x'])
    expect(stale.error?.code).toBe(-32000)
    expect(stale.error?.message).toMatch(/not current head/)
    expect(await result<Obj>(url, 'eth_getBlockByNumber', ['latest', false])).toEqual(head)
    expect(await result<string>(url, 'eth_getTransactionCount', [ACCOUNT_0, 'latest'])).toBe(`0x${nonce.toString(16)}`)
  })

  it('is not served when rpc.testing is off', async () => {
    const off = await startDevNode({}, { flags: { 'rpc.testing': false } })
    try {
      expect((await call(off.url, 'testing_buildBlockV1', [])).error?.code).toBe(-32601)
    } finally {
      await off.close()
    }
  })
})
