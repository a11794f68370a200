// eth_feeHistory over blocks before Cancun: their blob fields are zeroes (the spec: "Zeroes are
// returned for pre-EIP-4844 blocks"), as geth gives them. It threw (-32603) reading the blob gas
// price of a header without excess blob gas (rpc-compat eth_feeHistory/fee-history, block 27 of the
// conformance chain). On a Shanghai chain and on an Osaka one.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ACCOUNT_0 } from './bytecode.ts'
import { result, type StartedNode, startDevNode } from './live-node.ts'

type FeeHistory = { baseFeePerBlobGas: string[]; blobGasUsedRatio: number[]; baseFeePerGas: string[] }

const dir = mkdtempSync(join(tmpdir(), 'cairn-fee-history-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** A dev node on a genesis whose only timestamp fork at 0 is `fork` (block forks and the merge at genesis). */
async function nodeAt(fork: 'shanghaiTime' | 'osakaTime'): Promise<StartedNode> {
  const genesis = join(dir, `${fork}.json`)
  writeFileSync(
    genesis,
    JSON.stringify({
      config: { chainId: 1337, [fork]: 0 },
      gasLimit: '0x1c9c380',
      difficulty: '0x0',
      alloc: { [ACCOUNT_0]: { balance: '0x21e19e0c9bab2400000' } },
    }),
  )
  return startDevNode({}, { flags: { blockTime: 3600, genesis } })
}

async function mineTransfer(node: StartedNode): Promise<void> {
  await result(node.url, 'eth_sendTransaction', [
    { from: ACCOUNT_0, to: '0x000000000000000000000000000000000000beef', value: '0x1' },
  ])
  await result(node.url, 'evm_mine')
}

describe('eth_feeHistory blob fields', () => {
  let shanghai: StartedNode
  let osaka: StartedNode
  beforeAll(async () => {
    shanghai = await nodeAt('shanghaiTime')
    osaka = await nodeAt('osakaTime')
    await mineTransfer(shanghai)
    await mineTransfer(osaka)
  })
  afterAll(async () => {
    await shanghai?.close()
    await osaka?.close()
  })

  it('are zeroes before Cancun, the next block included', async () => {
    const h = await result<FeeHistory>(shanghai.url, 'eth_feeHistory', ['0x2', 'latest', [50]])
    expect(h.baseFeePerGas).toHaveLength(3)
    expect(h.baseFeePerBlobGas).toEqual(['0x0', '0x0', '0x0'])
    expect(h.blobGasUsedRatio).toEqual([0, 0])
  })

  it('are the blob base fees from Cancun on (1 wei with no excess blob gas)', async () => {
    const h = await result<FeeHistory>(osaka.url, 'eth_feeHistory', ['0x2', 'latest', [50]])
    expect(h.baseFeePerBlobGas).toEqual(['0x1', '0x1', '0x1'])
    expect(h.blobGasUsedRatio).toEqual([0, 0])
  })
})
