// eth_simulateV1 as a user meets it: viem's simulateCalls (what wallets use to preview
// transactions) against a dev node, and the behaviours geth documents: calls see each other's
// writes, nothing reaches the chain, BLOCKHASH of a simulated block is that block's hash,
// traceTransfers' ERC-7528 logs, returnFullTransactions, gaps in block numbers, validation.
import { type Address, createPublicClient, http, parseEther } from 'viem'
import { simulateCalls } from 'viem/actions'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ACCOUNT_0, deploy, STORE_RUNTIME } from './bytecode.ts'
import { call, result, type StartedNode, startDevNode } from './live-node.ts'

type Obj = Record<string, unknown>
const word = (n: number | bigint) => `0x${n.toString(16).padStart(64, '0')}`
/** Runtime: RETURN BLOCKHASH(NUMBER - 1). */
const PARENT_HASH_RUNTIME = '4360019003406000526020' + '6000f3'

let node: StartedNode
let url: string
let store: Address
beforeAll(async () => {
  node = await startDevNode()
  url = node.url
  store = (await deploy(url, STORE_RUNTIME)) as Address
})
afterAll(async () => {
  await node?.close()
})

describe("viem's simulateCalls", () => {
  it('runs calls in order, each seeing the writes of the one before, and changes nothing on chain', async () => {
    const client = createPublicClient({ transport: http(url) })
    const before = await result<string>(url, 'eth_getStorageAt', [store, '0x0', 'latest'])
    const { results } = await simulateCalls(client, {
      account: ACCOUNT_0 as Address,
      calls: [
        { to: store, value: 4n },
        { to: store, data: '0x' },
        { to: '0x00000000000000000000000000000000000000c1', value: parseEther('1') },
      ],
    })
    expect(results.map((r) => r.status)).toEqual(['success', 'success', 'success'])
    // SSTORE(0, value + 1) then RETURN SLOAD(0): 5, then 1.
    expect(results[0]?.data).toBe(word(5))
    expect(results[1]?.data).toBe(word(1))
    expect(results[2]?.gasUsed).toBe(21000n)
    expect(await result(url, 'eth_getStorageAt', [store, '0x0', 'latest'])).toBe(before)
    expect(await result(url, 'eth_getBalance', ['0x00000000000000000000000000000000000000c1', 'latest'])).toBe('0x0')
  })

  it('reports a reverting call as a failure with its revert data', async () => {
    const client = createPublicClient({ transport: http(url) })
    // Code that reverts with 32 bytes of 0x2a.
    const reverter = '0x00000000000000000000000000000000000000c2'
    const { results } = await simulateCalls(client, {
      account: ACCOUNT_0 as Address,
      calls: [{ to: reverter, data: '0x' }],
      stateOverrides: [{ address: reverter, code: '0x602a60005260206000fd' }],
    })
    expect(results[0]?.status).toBe('failure')
    expect(results[0]?.data).toBe(word(42))
  })
})

describe('eth_simulateV1', () => {
  it('BLOCKHASH in a simulated block answers the hash the previous simulated block was given', async () => {
    const probe = '0x00000000000000000000000000000000000000c3'
    const blocks = await result<Obj[]>(url, 'eth_simulateV1', [
      {
        blockStateCalls: [
          { stateOverrides: { [probe]: { code: `0x${PARENT_HASH_RUNTIME}` } }, calls: [{ to: probe }] },
          { calls: [{ to: probe }] },
          {
            blockOverrides: { number: `0x${(BigInt(await result<string>(url, 'eth_blockNumber')) + 5n).toString(16)}` },
            calls: [{ to: probe }],
          },
        ],
      },
    ])
    const head = await result<Obj>(url, 'eth_getBlockByNumber', ['latest', false])
    // Blocks 1 and 2, then the gap (3, 4) filled with empty blocks, then 5.
    expect(blocks).toHaveLength(5)
    const calls = blocks.map((b) => b.calls as Obj[])
    expect(calls[0]?.[0]?.returnData).toBe(head.hash)
    expect(calls[1]?.[0]?.returnData).toBe(blocks[0]?.hash)
    expect(calls[2]).toEqual([])
    expect(calls[4]?.[0]?.returnData).toBe(blocks[3]?.hash)
    for (let i = 1; i < blocks.length; i++) {
      expect(blocks[i]?.parentHash).toBe(blocks[i - 1]?.hash)
      expect(BigInt(blocks[i]?.timestamp as string) - BigInt(blocks[i - 1]?.timestamp as string)).toBe(12n)
    }
  })

  it('traceTransfers adds an ERC-7528 Transfer log per value transfer; returnFullTransactions names the sender', async () => {
    const to = '0x00000000000000000000000000000000000000c4'
    const [block] = await result<Obj[]>(url, 'eth_simulateV1', [
      {
        blockStateCalls: [{ calls: [{ from: ACCOUNT_0, to, value: '0x3e8' }] }],
        traceTransfers: true,
        returnFullTransactions: true,
      },
    ])
    const [c] = (block as Obj).calls as Obj[]
    expect((c as Obj).logs).toEqual([
      expect.objectContaining({
        address: '0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee',
        topics: [
          '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef',
          `0x${ACCOUNT_0.slice(2).padStart(64, '0')}`,
          `0x${to.slice(2).padStart(64, '0')}`,
        ],
        data: word(1000),
        blockHash: (block as Obj).hash,
        logIndex: '0x0',
      }),
    ])
    const [tx] = (block as Obj).transactions as Obj[]
    expect(tx).toMatchObject({ from: ACCOUNT_0, to, value: '0x3e8', blockHash: (block as Obj).hash })
  })

  it('runs a set-code (EIP-7702) call with its authorization list: 25,000 gas per authorization', async () => {
    const [block] = await result<Obj[]>(url, 'eth_simulateV1', [
      {
        blockStateCalls: [
          {
            calls: [
              {
                from: ACCOUNT_0,
                to: '0x00000000000000000000000000000000000000c7',
                authorizationList: [
                  // A signature that recovers no authority: charged, then skipped (EIP-7702).
                  { chainId: '0x539', address: store, nonce: '0x1', yParity: '0x0', r: '0x1', s: '0x1' },
                ],
              },
            ],
          },
        ],
        returnFullTransactions: true,
      },
    ])
    const [c] = (block as Obj).calls as Obj[]
    expect(c).toMatchObject({ status: '0x1', gasUsed: `0x${(21000 + 25000).toString(16)}` })
    expect(((block as Obj).transactions as Obj[])[0]).toMatchObject({ type: '0x4' })
  })

  it('refuses what geth refuses, with its codes', async () => {
    const head = BigInt(await result<string>(url, 'eth_blockNumber'))
    const order = await call(url, 'eth_simulateV1', [
      { blockStateCalls: [{ blockOverrides: { number: `0x${head.toString(16)}` } }] },
    ])
    expect(order.error?.code).toBe(-38020)
    const far = await call(url, 'eth_simulateV1', [
      { blockStateCalls: [{ blockOverrides: { number: `0x${(head + 257n).toString(16)}` } }] },
    ])
    expect(far.error?.code).toBe(-38026)
    const poor = await call(url, 'eth_simulateV1', [
      {
        blockStateCalls: [{ calls: [{ from: '0x00000000000000000000000000000000000000c5', to: store, value: '0x1' }] }],
      },
    ])
    expect(poor.error?.code).toBe(-38014)
    const nonce = await call(url, 'eth_simulateV1', [
      { blockStateCalls: [{ calls: [{ from: ACCOUNT_0, to: store, nonce: '0x0' }] }], validation: true },
    ])
    expect(nonce.error?.code).toBe(-38010)
    const notPrecompile = await call(url, 'eth_simulateV1', [
      {
        blockStateCalls: [
          { stateOverrides: { [store]: { movePrecompileToAddress: '0x00000000000000000000000000000000000000c6' } } },
        ],
      },
    ])
    expect(notPrecompile.error).toEqual({ code: -32000, message: `account ${store} is not a precompile` })
  })
})
