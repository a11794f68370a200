// eth_simulateV1 against the exchanges geth recorded for execution-apis (tests/eth_simulateV1,
// vendored in fixtures/eth-simulate, CC0). Until Cairn imports that suite's chain, the requests
// run on a dev chain with the suite's chain id, and what does not depend on the chain is compared
// exactly: every call result (return data, gas used, status, error, logs but their block fields),
// each block's gasUsed, receiptsRoot, logsBloom and header constants, the number and timestamp of
// each simulated block relative to its base (the dev chain is mined to the suite's height, so
// absolute block numbers name the same heights), and error codes. Cases that read the suite
// chain's own state (its accounts, contracts, block hashes, base fees) cannot match here.
import { readFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, result, type StartedNode, startDevNode } from './live-node.ts'

type Obj = Record<string, unknown>

const cases = JSON.parse(
  gunzipSync(
    readFileSync(new URL('../../packages/rpc/test/fixtures/eth-simulate/cases.json.gz', import.meta.url)),
  ).toString('utf8'),
) as Record<string, string>

/** The suite's chain head (block 0x36, timestamp 0x21c) that its requests' "latest" names. */
const SUITE_HEAD = { number: 0x36n, timestamp: 0x21cn }
/** geth's chain id in the suite (tests/forkenv.json): transaction hashes and signatures use it. */
const SUITE_CHAIN_ID = 3503995874084926

/** Fields of a simulated block that depend on the chain it was built on. */
const CHAIN_FIELDS = [
  'hash',
  'parentHash',
  'stateRoot',
  'number',
  'timestamp',
  'gasLimit',
  'size',
  'transactions',
  'transactionsRoot',
  'miner',
  'baseFeePerGas',
  'excessBlobGas',
]

function comparable(block: Obj, base: { number: bigint; timestamp: bigint }): Obj {
  const out: Obj = {}
  for (const [k, v] of Object.entries(block)) if (!CHAIN_FIELDS.includes(k)) out[k] = v
  out.numberAfterBase = BigInt(block.number as string) - base.number
  out.timeAfterBase = BigInt(block.timestamp as string) - base.timestamp
  out.calls = (block.calls as Obj[]).map((c) => ({
    ...c,
    logs: (c.logs as Obj[]).map(({ blockHash, blockNumber, blockTimestamp, transactionHash, ...rest }) => rest),
  }))
  return out
}

function parse(text: string): { request: Obj; response: Obj } {
  const lines = text.split('\n')
  const req = lines.find((l) => l.startsWith('>> ')) as string
  const res = lines.find((l) => l.startsWith('<< ')) as string
  return { request: JSON.parse(req.slice(3)), response: JSON.parse(res.slice(3)) }
}

let node: StartedNode
let head: { number: bigint; timestamp: bigint }
beforeAll(async () => {
  node = await startDevNode({}, { flags: { chainId: SUITE_CHAIN_ID } })
  // The suite's requests name absolute block numbers: the head is at the suite's height too.
  await result(node.url, 'evm_mine', [{ blocks: `0x${SUITE_HEAD.number.toString(16)}` }])
  const b = await result<Obj>(node.url, 'eth_getBlockByNumber', ['latest', false])
  head = { number: BigInt(b.number as string), timestamp: BigInt(b.timestamp as string) }
})
afterAll(async () => {
  await node?.close()
})

/** What a recorded exchange and Cairn's answer to it have in common, or why they differ. */
async function differential(name: string): Promise<string | undefined> {
  const { request, response } = parse(cases[name] as string)
  const params = request.params as unknown[]
  const got = await call(node.url, 'eth_simulateV1', params)
  if (response.error) {
    const want = response.error as { code: number }
    if (!got.error) return `expected error ${want.code}, got a result`
    return got.error.code === want.code ? undefined : `expected error ${want.code}, got ${JSON.stringify(got.error)}`
  }
  if (got.error) return `expected a result, got ${JSON.stringify(got.error)}`
  const want = (response.result as Obj[]).map((b) => comparable(b, SUITE_HEAD))
  const mine = (got.result as Obj[]).map((b) => comparable(b, head))
  try {
    expect(mine).toEqual(want)
    return undefined
  } catch (err) {
    return (err as Error).message.split('\n').slice(0, 12).join('\n')
  }
}

/** Cases whose outcome does not depend on the suite chain's state, and that Cairn answers as geth. */
const MUST_MATCH = [
  'ethSimulate-simple.io',
  'ethSimulate-simple-no-funds.io',
  'ethSimulate-logs.io',
  'ethSimulate-eth-send-should-produce-logs.io',
  'ethSimulate-eth-send-should-produce-more-logs-on-forward.io',
  'ethSimulate-check-that-nonce-increases.io',
  'ethSimulate-move-ecrecover-and-call.io',
  'ethSimulate-block-num-order-38020.io',
  'ethSimulate-block-timestamp-order-38021.io',
  'ethSimulate-instrict-gas-38013.io',
  'ethSimulate-gas-fees-and-value-error-38014.io',
  'ethSimulate-basefee-too-low-with-validation-38012.io',
  'ethSimulate-move-to-address-itself-reference-38022.io',
  // A failed call's output is only in its error (returnData "0x").
  'ethSimulate-eth-send-should-not-produce-logs-on-revert.io',
  // The ruleset's precompile addresses stay warm when overridden; a moved-to address is cold.
  'ethSimulate-extcodehash-precompile.io',
  'ethSimulate-override-ecrecover.io',
  // A precompile move lasts one block.
  'ethSimulate-move-ecrecover-twice-and-call.io',
  // A contract may send (no EIP-3607), with traceTransfers' logs.
  'ethSimulate-simple-send-from-contract.io',
  // Outside validation a fee cap under an overridden base fee still runs.
  'ethSimulate-basefee-too-low-without-validation-38012.io',
  // Blob transactions, blob base fee override; full transactions with their senders.
  'ethSimulate-blobs.io',
  'ethSimulate-no-fields-call.io',
  'ethSimulate-simple-validation-fulltx.io',
  'ethSimulate-check-invalid-nonce.io',
  'ethSimulate-transfer-over-BlockStateCalls.io',
  // A nonce of 2^64-1 runs without validation (and wraps to 0); with validation -32603.
  'ethSimulate-overflow-nonce.io',
  'ethSimulate-overflow-nonce-validation.io',
]

describe('eth_simulateV1 against geth’s recorded exchanges', () => {
  it('lists every case and how Cairn compares', async () => {
    const report: string[] = []
    let same = 0
    for (const name of Object.keys(cases)) {
      const why = await differential(name)
      if (why === undefined) same++
      else report.push(`${name}: ${why.split('\n')[0]}`)
    }
    console.log(`eth_simulateV1 recorded cases: ${same} of ${Object.keys(cases).length} match\n${report.join('\n')}`)
    expect(same).toBeGreaterThanOrEqual(77)
  }, 120_000)

  for (const name of MUST_MATCH) {
    it(`answers ${name} as geth`, async () => {
      expect(await differential(name)).toBeUndefined()
    })
  }
})
