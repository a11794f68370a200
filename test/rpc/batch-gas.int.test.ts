// One request froze the node: a batch of looping eth_calls ran one after another, each to the gas
// cap. A batch's EVM runs now share a gas budget; past it, entries answer -32005 without running.
import { createPublicClient, http } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deploy, LOOP_RUNTIME } from './bytecode.ts'
import { post, type StartedNode, startDevNode } from './live-node.ts'

const LOOP = '0x000000000000000000000000000000000000100F'
/** Loops until the gas runs out. */
const LOOP_CODE = `0x${LOOP_RUNTIME}`

let node: StartedNode
beforeAll(async () => {
  node = await startDevNode({ gasCap: 2_000_000n, batchGasLimit: 5_000_000n })
})
afterAll(async () => {
  await node?.close()
})

const loopCall = (id: number) => ({
  jsonrpc: '2.0',
  id,
  method: 'eth_call',
  params: [{ to: LOOP, gas: '0x1e8480' }, 'latest', { [LOOP]: { code: LOOP_CODE } }],
})

describe('the gas budget of a batch', () => {
  it('stops running looping calls once the batch has used its gas', async () => {
    const r = await post(
      node.url,
      Array.from({ length: 10 }, (_, i) => loopCall(i)),
    )
    const answers = r.json as { id: number; error?: { code: number; message: string } }[]
    // 2,000,000 gas each: the first three run (the third crosses 5,000,000), the rest do not.
    expect(answers.map((a) => a.error?.code)).toEqual([
      -32000, -32000, -32000, -32005, -32005, -32005, -32005, -32005, -32005, -32005,
    ])
    expect(answers[0]?.error?.message).toMatch(/out of gas/)
    expect(answers[3]?.error?.message).toBe('batch gas budget exhausted (5000000 gas per batch)')
  })

  it('charges only batches: the same calls one by one all run', async () => {
    for (let i = 0; i < 4; i++) {
      const r = await post(node.url, loopCall(i))
      expect((r.json as { error: { code: number } }).error.code).toBe(-32000)
    }
  })
})

/** Runtime of a view: RETURN 32 bytes of SLOAD(0) (a getter, ~2.1k gas cold). */
const GETTER_RUNTIME = '60005460005260206000f3'

describe('a batch of view calls (viem batch: true)', () => {
  it('charges each call the gas it used, not its allowance: 20 calls in one batch all answer', async () => {
    const getter = (await deploy(node.url, GETTER_RUNTIME)) as `0x${string}`
    // Blocks whose state no VM has read yet: the calls wait on the state's reads and overlap.
    for (let i = 0; i < 20; i++) await post(node.url, { jsonrpc: '2.0', id: i, method: 'evm_mine', params: [] })
    const head = BigInt(
      ((await post(node.url, { jsonrpc: '2.0', id: 0, method: 'eth_blockNumber' })).json as { result: string }).result,
    )
    const sent: number[] = []
    const client = createPublicClient({
      transport: http(node.url, {
        batch: { batchSize: 100, wait: 5 },
        onFetchRequest: async (req) => {
          const body = (await req.clone().json()) as unknown
          sent.push(Array.isArray(body) ? body.length : 1)
        },
      }),
    })
    // Each allowed the gas cap (2,000,000), ten times the batch's 5,000,000 in all; each uses
    // ~23k. Half run on the view interpreter (latest), half in the EVM (pending).
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        i % 2 === 0
          ? client.call({ to: getter, data: '0x', blockNumber: head - BigInt(i) })
          : client.call({ to: getter, data: '0x', blockTag: 'pending' }),
      ),
    )
    expect(sent).toEqual([20])
    expect(answers.map((a) => a.data)).toEqual(Array(20).fill(`0x${'0'.repeat(64)}`))
  })
})
