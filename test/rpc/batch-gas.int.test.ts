// One request froze the node: a batch of looping eth_calls ran one after another, each to the gas
// cap. A batch's EVM runs now share a gas budget; past it, entries answer -32005 without running.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LOOP_RUNTIME } from './bytecode.ts'
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
