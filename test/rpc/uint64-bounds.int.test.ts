// Issue 48 §2: block numbers, counts, indexes, nonces, gas and timestamps are uint64s. A number
// past 2^64-1 is refused at the edge with -32602 and geth's "hex number > 64 bits" (it used to
// wrap: block 2^64 + 5 read block 5, the store keying numbers by their low 8 bytes), on every
// method and every path (single POST, batch, WebSocket). The numeric params are found by walking
// every method's schema (numeric-params.ts), so a method added later is covered by itself; uint256
// fields (values, prices, balances, storage slots, ids) are the listed exceptions.
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ALL_METHODS, type MethodDef } from '../../packages/rpc/src/index.ts'
import { call, type RpcResponse, result, type StartedNode, startDevNode, WsRpc } from './live-node.ts'
import { fill, type NumericSlot, numericSlots, paramsAround, slotName } from './numeric-params.ts'

const RANGE = 'hex number > 64 bits'
const MAX_UINT64 = 2n ** 64n - 1n
const hex = (n: bigint) => `0x${n.toString(16)}`

/** Fields that are uint256 in Ethereum wherever they appear (values, prices, chain ids, signatures). */
const UINT256_FIELDS = new Set([
  'value',
  'gasPrice',
  'maxFeePerGas',
  'maxPriorityFeePerGas',
  'maxFeePerBlobGas',
  'chainId',
  'r',
  's',
  'balance',
  'baseFeePerGas',
  'baseFee',
  'blobBaseFee',
  'difficulty',
])
/** Positional uint256 params: storage slots, filter and snapshot ids, dev methods' balances, amounts, fees. */
const UINT256_SLOTS = new Set([
  'eth_getStorageAt[1]',
  'eth_getStorageValues[0]{*}[0]',
  'eth_getProof[1][0]',
  'eth_getFilterChanges[0]',
  'eth_getFilterLogs[0]',
  'eth_uninstallFilter[0]',
  'evm_revert[0]',
  'anvil_revert[0]',
  'anvil_setBalance[1]',
  'hardhat_setBalance[1]',
  'anvil_addBalance[1]',
  'hardhat_addBalance[1]',
  'anvil_setStorageAt[1]',
  'hardhat_setStorageAt[1]',
  'anvil_dealERC20[2]',
  'hardhat_dealERC20[2]',
  'anvil_setERC20Balance[2]',
  'anvil_setERC20Allowance[3]',
  'anvil_setNextBlockBaseFeePerGas[0]',
  'hardhat_setNextBlockBaseFeePerGas[0]',
  'anvil_setMinGasPrice[0]',
  'hardhat_setMinGasPrice[0]',
  'tenderly_setBalance[1]',
  'tenderly_addBalance[1]',
])

function isUint256(slot: NumericSlot): boolean {
  const last = slot.path[slot.path.length - 1]
  return (typeof last === 'string' && UINT256_FIELDS.has(last)) || UINT256_SLOTS.has(slotName(slot.method, slot.path))
}

interface Issue {
  message: string
  errors?: Issue[][]
}
/** Whether the issue, or one behind a failed union, is the 64-bit refusal. */
function saysRange(issue: Issue): boolean {
  return issue.message === RANGE || (issue.errors ?? []).some((o) => o.some(saysRange))
}
function refusesAsRange(slot: NumericSlot, value: string): boolean {
  const r = slot.schema.safeParse(value)
  return !r.success && r.error.issues.some((i) => saysRange(i as Issue))
}
/** Whether a bare 32-byte hex string is read as a block hash there (geth's BlockNumberOrHash). */
function takesHash(slot: NumericSlot): boolean {
  return slot.schema.safeParse(`0x${'ab'.repeat(32)}`).success && !refusesAsRange(slot, `0x${'ab'.repeat(32)}`)
}

const everySlot = ALL_METHODS.flatMap((def) => numericSlots(def).map((slot) => ({ def, slot })))
const uint64Slots = everySlot.filter(({ slot }) => !isUint256(slot))

describe('the numeric params of every method (schemas)', () => {
  it('finds them (the walk sees block refs, call objects, overrides, dev methods)', () => {
    const names = new Set(uint64Slots.map(({ slot }) => slotName(slot.method, slot.path)))
    for (const expected of [
      'eth_getBlockByNumber[0]',
      'eth_getBalance[1].blockNumber',
      'eth_call[0].gas',
      'eth_call[3].time',
      'eth_feeHistory[0]',
      'eth_getLogs[0].fromBlock',
      'eth_getTransactionByBlockNumberAndIndex[1]',
      'eth_simulateV1[0].blockStateCalls[0].calls[0].nonce',
      'evm_setNextBlockTimestamp[0]',
      'anvil_mine[0]',
    ]) {
      expect(names, expected).toContain(expected)
    }
  })

  it('refuses 2^64 in each uint64 one with "hex number > 64 bits" and takes 2^64-1; uint256 ones take 2^64', () => {
    const wrong: string[] = []
    for (const { slot } of everySlot) {
      const name = slotName(slot.method, slot.path)
      if (isUint256(slot)) {
        if (!slot.schema.safeParse(hex(2n ** 64n)).success) wrong.push(`${name}: a uint256 that refuses 2^64`)
      } else {
        if (!refusesAsRange(slot, hex(2n ** 64n))) wrong.push(`${name}: takes 2^64 (or refuses it without "${RANGE}")`)
        if (refusesAsRange(slot, hex(MAX_UINT64))) wrong.push(`${name}: refuses 2^64-1`)
      }
    }
    expect(wrong).toEqual([])
  })
})

describe('over HTTP and WebSocket, against a dev node', () => {
  let node: StartedNode
  let ws: WsRpc
  const cases: { def: MethodDef; slot: NumericSlot; tpl: unknown[] }[] = []

  beforeAll(async () => {
    node = await startDevNode()
    ws = await WsRpc.connect(node.url)
    await result(node.url, 'evm_mine', [{ blocks: 3 }])
  })
  afterAll(async () => {
    await ws?.close()
    await node?.close()
  })

  it('the node serves every method with a uint64 param, and each gets params the test can build', () => {
    const served = new Set(node.dispatcher.methodNames)
    const unbuilt: string[] = []
    for (const { def, slot } of uint64Slots) {
      expect(served, def.name).toContain(def.name)
      const tpl = paramsAround(def, slot, '0x2710')
      if (tpl) cases.push({ def, slot, tpl })
      else unbuilt.push(slotName(slot.method, slot.path))
    }
    expect(unbuilt).toEqual([])
    expect(cases.length).toBeGreaterThan(150)
  })

  /** POSTs a JSON body; an answer that does not come within 10 s is an error (a request left hanging). */
  async function postJson(body: unknown): Promise<unknown> {
    try {
      const res = await fetch(node.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      })
      return await res.json()
    } catch (err) {
      return { error: { code: 0, message: `no answer: ${(err as Error).message}` } }
    }
  }

  /** Answers to `requests` sent by `how`: one POST each, in batches of 50, or pipelined on the WebSocket. */
  async function send(how: 'post' | 'batch' | 'ws', requests: { method: string; params: unknown }[]) {
    if (how === 'ws') return Promise.all(requests.map((r) => ws.request(r.method, r.params as unknown[])))
    const out: RpcResponse[] = []
    if (how === 'post') {
      for (let i = 0; i < requests.length; i += 8) {
        const part = requests.slice(i, i + 8)
        const answers = part.map((r, j) => postJson({ jsonrpc: '2.0', id: j, method: r.method, params: r.params }))
        out.push(...((await Promise.all(answers)) as RpcResponse[]))
      }
      return out
    }
    for (let i = 0; i < requests.length; i += 50) {
      const part = requests.slice(i, i + 50)
      // Beside a good entry, which still answers.
      const answers = (await postJson([
        ...part.map((r, j) => ({ jsonrpc: '2.0', id: j, method: r.method, params: r.params })),
        { jsonrpc: '2.0', id: 'good', method: 'eth_chainId', params: [] },
      ])) as RpcResponse[]
      expect(Array.isArray(answers), JSON.stringify(answers)).toBe(true)
      expect(answers.find((a) => a.id === 'good')?.result).toBeTypeOf('string')
      out.push(...part.map((_, j) => answers.find((a) => a.id === j) as RpcResponse))
    }
    return out
  }

  it('property: a value in [2^64, 2^256) is refused with -32602 "hex number > 64 bits", in every uint64 param', async () => {
    expect(cases.length).toBeGreaterThan(0)
    // One value per param and run. A bare 64-digit number where a block hash is taken is a hash
    // (geth reads it so): 63 digits at most there.
    const values = fc.tuple(
      ...cases.map(({ slot }) => {
        const top = takesHash(slot) ? 2n ** 252n - 1n : 2n ** 256n - 1n
        return fc.oneof(fc.constantFrom(2n ** 64n, 2n ** 64n + 5n, top), fc.bigInt({ min: 2n ** 64n, max: top }))
      }),
    )
    // Batches and the WebSocket are cheap: more runs there.
    for (const [how, numRuns] of [
      ['post', 1],
      ['batch', 3],
      ['ws', 2],
    ] as const) {
      await fc.assert(
        fc.asyncProperty(values, async (ns) => {
          const requests = cases.map(({ def, tpl }, i) => ({
            method: def.name,
            params: fill(tpl, hex(ns[i] as bigint)),
          }))
          const answers = await send(how, requests)
          // Every param that was not refused so, named with its value and answer.
          const wrong = answers.flatMap((res, i) => {
            const { slot } = cases[i] as (typeof cases)[number]
            const refused =
              res?.error?.code === -32602 &&
              /^invalid argument \d+( \(field [^)]+\))?: hex number > 64 bits$/.test(res.error.message)
            return refused
              ? []
              : [`${slotName(slot.method, slot.path)} = ${hex(ns[i] as bigint)}: ${JSON.stringify(res)}`]
          })
          expect(wrong, `by ${how}`).toEqual([])
        }),
        // No shrinking: each run sends every param; the failure names the param and value already.
        { numRuns, endOnFailure: true },
      )
    }
  }, 120_000)

  it('block 2^64 + 5 is not block 5, and 2^64 is not genesis: eth_getBlockByNumber and the state reads', async () => {
    const addr = node.accounts[0]?.address as string
    for (const n of ['0x10000000000000005', '0x10000000000000000']) {
      const reads: [string, unknown[]][] = [
        ['eth_getBlockByNumber', [n, false]],
        ['eth_getBalance', [addr, n]],
        ['eth_getTransactionCount', [addr, n]],
        ['eth_getCode', [addr, n]],
        ['eth_call', [{ to: addr }, n]],
        ['eth_getBalance', [addr, { blockNumber: n }]],
      ]
      for (const [method, params] of reads) {
        const r = await call(node.url, method, params)
        const arg =
          method === 'eth_getBlockByNumber' ? '0' : typeof params[1] === 'object' ? '1 (field blockNumber)' : '1'
        expect(r.error, `${method} ${JSON.stringify(params)}`).toEqual({
          code: -32602,
          message: `invalid argument ${arg}: ${RANGE}`,
        })
      }
    }
  })

  it('property: a block number in (head, 2^64-1] is accepted and reads as absent, never as a wrapped block', async () => {
    const addr = node.accounts[0]?.address as string
    const head = BigInt(await result<string>(node.url, 'eth_blockNumber'))
    const far = fc.oneof(fc.constant(MAX_UINT64), fc.bigInt({ min: head + 1n, max: MAX_UINT64 }))
    await fc.assert(
      fc.asyncProperty(far, async (n) => {
        const q = hex(n)
        for (const method of [
          'eth_getBlockByNumber',
          'eth_getHeaderByNumber',
          'eth_getBlockTransactionCountByNumber',
          'eth_getBlockReceipts',
        ]) {
          const r = await call(node.url, method, method === 'eth_getBlockByNumber' ? [q, false] : [q])
          expect(r, `${method} ${q}`).toMatchObject({ result: null })
        }
        const tx = await call(node.url, 'eth_getTransactionByBlockNumberAndIndex', ['latest', q])
        expect(tx, `index ${q}`).toMatchObject({ result: null })
        for (const [method, params] of [
          ['eth_getBalance', [addr, q]],
          ['eth_getTransactionCount', [addr, q]],
          ['eth_getCode', [addr, q]],
          ['eth_call', [{ to: addr }, q]],
        ] as const) {
          const r = await call(node.url, method, params)
          expect(r.error, `${method} ${q}: ${JSON.stringify(r)}`).toBeDefined()
          expect(r.error?.code, `${method} ${q}`).not.toBe(-32602)
          expect(r.error?.message, `${method} ${q}`).toMatch(/not found/)
        }
        const fees = await call(node.url, 'eth_feeHistory', [q, 'latest', []])
        expect(fees.error, `eth_feeHistory ${q}`).toBeUndefined()
        // From the head down, not a walk down from 2^64-1 through blocks that do not exist (that
        // walk's reads, answered from memory, kept the event loop from ever turning: the node froze).
        const history = await call(node.url, 'ots_searchTransactionsBefore', [addr, q, '0x1'])
        expect(history, `ots_searchTransactionsBefore ${q}`).toMatchObject({ result: { firstPage: true } })
      }),
      { numRuns: 10, endOnFailure: true },
    )
  })
})
