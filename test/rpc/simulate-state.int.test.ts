// eth_simulateV1's blocks as real blocks: a simulated block carries the post-state root the chain
// itself computes for the same block (a differential test against Cairn's import path: a mined
// block simulated again on its parent), withdrawals are credited, and the transactions are the
// ones geth builds (no EIP-7825 cap on their gas, a nonce of 2^64-1 runs and wraps to 0). The
// figures and hashes geth gives are checked by the rpc-compat conformance suite (conformance/).
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ACCOUNT_0, deploy, STORE_RUNTIME, send } from './bytecode.ts'
import { call, result, type StartedNode, startDevNode } from './live-node.ts'

type Obj = Record<string, unknown>
const hex = (n: bigint | number) => `0x${n.toString(16)}`
const EMPTY_REQUESTS_HASH = '0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
/** EIP-7002's withdrawal request contract (a dev chain's genesis holds it). */
const WITHDRAWAL_REQUESTS = '0x00000961ef480eb55e80d19ad83579a64c007002'

let node: StartedNode
let url: string
let store: string
beforeAll(async () => {
  node = await startDevNode()
  url = node.url
  store = await deploy(url, STORE_RUNTIME)
})
afterAll(async () => {
  await node?.close()
})

/** Simulates the mined block of transaction `hash` again on its parent, from the same fields. */
async function resimulate(hash: string): Promise<{ mined: Obj; simulated: Obj }> {
  const tx = await result<Obj>(url, 'eth_getTransactionByHash', [hash])
  const mined = await result<Obj>(url, 'eth_getBlockByNumber', [tx.blockNumber, false])
  const parent = hex(BigInt(mined.number as string) - 1n)
  const fees =
    tx.type === '0x0'
      ? { gasPrice: tx.gasPrice }
      : { maxFeePerGas: tx.maxFeePerGas, maxPriorityFeePerGas: tx.maxPriorityFeePerGas }
  const [simulated] = await result<Obj[]>(url, 'eth_simulateV1', [
    {
      validation: true,
      blockStateCalls: [
        {
          blockOverrides: {
            number: mined.number,
            time: mined.timestamp,
            gasLimit: mined.gasLimit,
            feeRecipient: mined.miner,
            prevRandao: mined.mixHash,
            baseFeePerGas: mined.baseFeePerGas,
            ...(mined.parentBeaconBlockRoot ? { beaconRoot: mined.parentBeaconBlockRoot } : {}),
          },
          calls: [
            { from: tx.from, to: tx.to, value: tx.value, gas: tx.gas, nonce: tx.nonce, input: tx.input, ...fees },
          ],
        },
      ],
    },
    parent,
  ])
  return { mined, simulated: simulated as Obj }
}

describe('eth_simulateV1 blocks', () => {
  it('carry the state root the chain computes for the same block (a mined block simulated again on its parent)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.bigInt({ min: 0n, max: 10n ** 18n }),
        fc.constantFrom('transfer', 'store', 'request'),
        fc.integer({ min: 1, max: 0xfff }),
        async (value, kind, to) => {
          const r =
            kind === 'request'
              ? // An EIP-7002 withdrawal request (48-byte pubkey, 8-byte amount; fee 1 wei at no excess):
                // the block's end runs the contract's system call and the request is in requestsHash.
                await send(url, {
                  to: WITHDRAWAL_REQUESTS,
                  value: hex(1n + value),
                  data: `0x${'ab'.repeat(48)}${'00'.repeat(7)}01`,
                })
              : await send(url, {
                  to: kind === 'store' ? store : `0x${(0x10000 + to).toString(16).padStart(40, '0')}`, // past the precompiles
                  value: hex(value),
                })
          expect(r.status).toBe('0x1')
          const { mined, simulated } = await resimulate(r.transactionHash as string)
          expect(simulated.stateRoot).not.toBe(`0x${'00'.repeat(32)}`)
          if (kind === 'request') expect(mined.requestsHash).not.toBe(EMPTY_REQUESTS_HASH)
          for (const field of [
            'stateRoot',
            'receiptsRoot',
            'logsBloom',
            'gasUsed',
            'withdrawalsRoot',
            'requestsHash',
          ]) {
            expect({ field, value: simulated[field] }).toEqual({ field, value: mined[field] })
          }
        },
      ),
      {
        numRuns: 8,
        examples: [
          [5n, 'request', 1],
          [7n, 'store', 1],
          [9n, 'transfer', 2],
        ],
      },
    )
  })

  it('credit their withdrawals (in gwei) to the next block', async () => {
    const a = '0x00000000000000000000000000000000000000d1'
    const blocks = await result<Obj[]>(url, 'eth_simulateV1', [
      {
        blockStateCalls: [
          { blockOverrides: { withdrawals: [{ index: '0x0', validatorIndex: '0x1', address: a, amount: '0x5' }] } },
          { calls: [{ from: a, to: ACCOUNT_0, value: hex(5n * 10n ** 9n) }] },
        ],
      },
      'latest',
    ])
    expect((blocks[0]?.withdrawals as Obj[])[0]).toMatchObject({ address: a, amount: '0x5' })
    expect(blocks[0]?.withdrawalsRoot).not.toBe('0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421')
    expect((blocks[1]?.calls as Obj[])[0]?.status).toBe('0x1')
  })

  it('are unchanged by an override that sets nothing (a precompile move creates no account)', async () => {
    const roots = async (overrides?: Obj) => {
      const [b] = await result<Obj[]>(url, 'eth_simulateV1', [
        { blockStateCalls: [{ ...(overrides ? { stateOverrides: overrides } : {}) }] },
        'latest',
      ])
      return b?.stateRoot
    }
    const empty = await roots()
    expect(
      await roots({
        '0x0000000000000000000000000000000000000002': { movePrecompileToAddress: `0x${'c3'.repeat(20)}` },
      }),
    ).toBe(empty)
    expect(await roots({ [`0x${'c4'.repeat(20)}`]: { stateDiff: {} } })).toBe(empty)
    expect(await roots({ [`0x${'c4'.repeat(20)}`]: { balance: '0x1' } })).not.toBe(empty)
  })
})

describe('eth_simulateV1 transactions, as geth builds them', () => {
  const from = `0x${'c0'.repeat(20)}`
  const to = `0x${'c1'.repeat(20)}`

  it('take the gas the block and the RPC gas cap leave, above the EIP-7825 cap', async () => {
    const [b] = await result<Obj[]>(url, 'eth_simulateV1', [
      {
        blockStateCalls: [
          {
            calls: [
              { from, to },
              { from, to },
            ],
          },
        ],
        returnFullTransactions: true,
      },
      'latest',
    ])
    const gas = (b?.transactions as Obj[]).map((t) => BigInt(t.gas as string))
    // The dev chain's block gas limit and the RPC gas cap (50M) are both above 2^24.
    expect(gas[0]).toBeGreaterThan(1n << 24n)
    expect(gas[1]).toBe((gas[0] as bigint) - 21_000n)
  })

  it('run from an account at nonce 2^64-1, which then wraps to 0; with validation it is refused (-32603)', async () => {
    const max = '0xffffffffffffffff'
    const params = (validation: boolean) => [
      {
        validation,
        returnFullTransactions: true,
        blockStateCalls: [
          {
            stateOverrides: { [from]: { nonce: max } },
            calls: [
              { from, to },
              { from, to },
            ],
          },
        ],
      },
      'latest',
    ]
    const [b] = await result<Obj[]>(url, 'eth_simulateV1', params(false))
    expect((b?.calls as Obj[]).map((c) => c.status)).toEqual(['0x1', '0x1'])
    expect((b?.transactions as Obj[]).map((t) => t.nonce)).toEqual([max, '0x0'])
    const refused = await call(url, 'eth_simulateV1', params(true))
    expect(refused.error?.code).toBe(-32603)
    expect(refused.error?.message).toMatch(/nonce has max value/)
  })
})
