/**
 * A shard refuses a sender of another shard: one real `cairn start` whose genesis says shard 0 of 2
 * (`config.cairn.shard`). A transfer from a shard-1 sender is refused by `eth_sendRawTransaction`
 * with `CONSENSUS_SHARD_WRONG_SHARD` naming shard 1 in `data`; one from a shard-0 sender is mined.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { devGenesis } from '@cairn/chain'
import { homeShard } from '@cairn/consensus/shard'
import type { Hex } from 'viem'
import { mnemonicToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type NodeHandle, rpcRequest, startNode, waitFor } from './harness.ts'

const MNEMONIC = 'test test test test test test test test test test test junk'
const accounts = Array.from({ length: 10 }, (_, i) => mnemonicToAccount(MNEMONIC, { addressIndex: i }))
const shardOf = (address: string) => homeShard(Uint8Array.from(Buffer.from(address.slice(2), 'hex')), 2)

describe('a shard refuses senders of other shards', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-shard-admission-'))
  let node: NodeHandle

  beforeAll(async () => {
    const genesis = devGenesis({ chainId: 1337n, accounts: accounts.map((a) => a.address) }) as {
      config: Record<string, unknown>
    }
    genesis.config.cairn = { shard: { index: 0, count: 2 } }
    writeFileSync(join(dir, 'genesis.json'), JSON.stringify(genesis))
    node = await startNode('cairn', { datadir: join(dir, 'data'), args: ['--genesis', join(dir, 'genesis.json')] })
  }, 60_000)

  afterAll(async () => {
    await node?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  const transfer = (from: (typeof accounts)[number]) =>
    from.signTransaction({
      chainId: 1337,
      type: 'eip1559',
      to: '0x000000000000000000000000000000000000bEEF',
      value: 1n,
      nonce: 0,
      gas: 21_000n,
      maxFeePerGas: 10n ** 10n,
      maxPriorityFeePerGas: 1n,
    })

  it('refuses a shard-1 sender with -32000 and data naming shard 1', async () => {
    const sender = accounts.find((a) => shardOf(a.address) === 1) as (typeof accounts)[number]
    const answer = await rpcRequest(node.url, 'eth_sendRawTransaction', [await transfer(sender)])
    expect(answer).toMatchObject({
      error: {
        code: -32000,
        message: expect.stringContaining('lives on shard 1, not shard 0'),
        data: { code: 'CONSENSUS_SHARD_WRONG_SHARD', homeShard: 1 },
      },
    })
    const pool = await rpcRequest<{ pending: string }>(node.url, 'txpool_status', [])
    expect(pool).toMatchObject({ result: { pending: '0x0' } })
  })

  it('accepts and mines a shard-0 sender', async () => {
    const sender = accounts.find((a) => shardOf(a.address) === 0) as (typeof accounts)[number]
    const answer = await rpcRequest<Hex>(node.url, 'eth_sendRawTransaction', [await transfer(sender)])
    if (!('result' in answer)) throw new Error(`refused: ${JSON.stringify(answer)}`)
    await waitFor(
      async () => {
        const r = await rpcRequest<{ status: string } | null>(node.url, 'eth_getTransactionReceipt', [answer.result])
        return 'result' in r && r.result?.status === '0x1'
      },
      20_000,
      'the receipt',
      () => node.logs(),
    )
  }, 30_000)
})
