// eth_estimateGas searches as geth's gasestimator does, with geth's answers: the exact figures geth
// recorded for the execution-apis cases of the same shape (a plain transfer: 21,000; a transfer with
// one EIP-7702 authorization that does not apply: 0xb52e, where the 1.5% error ratio stops the
// bisection), the allowance capped by the sender's funds at its fee cap, and its error messages
// ("gas required exceeds allowance (N)", "insufficient funds for transfer", the EVM's own error).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ACCOUNT_0, deploy, send } from './bytecode.ts'
import { call, result, type StartedNode, startDevNode } from './live-node.ts'

const GWEI = 10n ** 9n
const EMPTY = '0x0100000000000000000000000000000000000000'
const POOR = '0x00000000000000000000000000000000000000a1'
/** Runtime: SSTORE(0, 1), SSTORE(1, 1), SSTORE(2, 1): ~66,000 gas. */
const THREE_STORES = '600160005560016001556001600255' + '00'
/** Runtime: the designated invalid instruction (0xfe). */
const INVALID = 'fe'

let node: StartedNode
let url: string
let stores: string
let invalid: string

const hex = (n: bigint) => `0x${n.toString(16)}`

beforeAll(async () => {
  node = await startDevNode()
  url = node.url
  stores = await deploy(url, THREE_STORES)
  invalid = await deploy(url, INVALID)
  // POOR holds 100,000 gas at 1 gwei, and no more.
  await send(url, { to: POOR, value: hex(100_000n * GWEI) })
})

afterAll(async () => {
  await node?.close()
})

describe('eth_estimateGas: geth’s search and answers', () => {
  it('a plain transfer is 21,000 (geth: estimate-simple-transfer)', async () => {
    expect(await result(url, 'eth_estimateGas', [{ from: ACCOUNT_0, to: EMPTY }])).toBe('0x5208')
  })

  it('a transfer with one authorization that does not apply is 0xb52e, as geth recorded (estimate-with-eip7702)', async () => {
    const authorization = {
      address: '0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
      chainId: '0x1',
      nonce: '0x0',
      r: `0x${'11'.repeat(32)}`,
      s: `0x${'22'.repeat(32)}`,
      yParity: '0x0',
    }
    const req = { from: ACCOUNT_0, to: EMPTY, value: '0x1', type: '0x4', authorizationList: [authorization] }
    expect(await result(url, 'eth_estimateGas', [req])).toBe('0xb52e')
  })

  it('a call that halts with an EVM error reports it; one that runs out of its own gas names the allowance', async () => {
    const bad = await call(url, 'eth_estimateGas', [{ from: ACCOUNT_0, to: invalid }])
    expect(bad.error?.code).toBe(-32000)
    expect(bad.error?.message).toMatch(/invalid opcode/)
    const low = await call(url, 'eth_estimateGas', [{ from: ACCOUNT_0, to: stores, gas: hex(30_000n) }])
    expect(low.error?.message).toBe('gas required exceeds allowance (30000)')
  })

  it('the allowance is what the sender’s balance pays at its fee cap (geth: "capped by limited funds")', async () => {
    const at = (maxFeePerGas: bigint) =>
      call(url, 'eth_estimateGas', [{ from: POOR, to: stores, maxFeePerGas: hex(maxFeePerGas) }])
    // 100,000 gas affordable at 1 gwei: enough for the three stores.
    const ok = await at(GWEI)
    expect(BigInt(ok.result as string)).toBeGreaterThan(60_000n)
    expect(BigInt(ok.result as string)).toBeLessThanOrEqual(100_000n)
    // At 2 gwei only 50,000: not enough, and geth says so with the capped allowance.
    expect((await at(2n * GWEI)).error?.message).toBe('gas required exceeds allowance (50000)')
    // A value the balance cannot leave room for (value ≥ balance with a fee cap).
    const rich = await call(url, 'eth_estimateGas', [
      { from: POOR, to: EMPTY, value: hex(100_000n * GWEI), maxFeePerGas: hex(1n) },
    ])
    expect(rich.error?.message).toBe('insufficient funds for transfer')
  })

  it('the estimate is within geth’s 1.5% of the least gas that works, and that gas works', async () => {
    const estimate = BigInt(await result<string>(url, 'eth_estimateGas', [{ from: ACCOUNT_0, to: stores }]))
    // Fails 1.5% lower than the estimate, or the estimate is the least (bisection to the unit).
    const below = await call(url, 'eth_estimateGas', [
      { from: ACCOUNT_0, to: stores, gas: hex((estimate * 985n) / 1000n) },
    ])
    expect(below.error?.message).toMatch(/gas required exceeds allowance/)
    const r = await send(url, { to: stores, gas: hex(estimate) })
    expect(r.status).toBe('0x1')
  })
})
