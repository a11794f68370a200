// `cairn arb deploy`'s work on a Cairn dev node: ArbExecutor deployed from the committed artifact
// by the key in a key file, owned by that account, and funded with the base token when asked.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { arbExecutor } from '@cairn/contracts'
import type { Abi } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deployExecutor } from '../../packages/arbitrage/src/cli/deploy.ts'
import { balanceOf, deployToken, startCairn, type TestChain } from './chain-harness.ts'

describe('cairn arb deploy on a Cairn dev node', () => {
  let c: TestChain
  beforeAll(async () => {
    c = await startCairn()
  }, 60_000)
  afterAll(async () => {
    await c?.close()
  })

  it('deploys ArbExecutor owned by the signing key, and funds it with the base token', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'arb-deploy-'))
    const keyFile = join(dir, 'key')
    // dev account 0's key (the harness's first account)
    writeFileSync(keyFile, '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80\n', { mode: 0o600 })
    const weth = await deployToken(c, 10n ** 24n)
    const r = await deployExecutor({ rpc: c.url, key: { keyFile }, fund: { token: weth, amount: 5n * 10n ** 18n } })
    expect(r.owner).toBe(c.accounts[0]!.address.toLowerCase())
    const owner = (await c.pub.readContract({
      address: r.address,
      abi: arbExecutor.abi as Abi,
      functionName: 'owner',
    })) as string
    expect(owner.toLowerCase()).toBe(r.owner)
    expect(await c.pub.getCode({ address: r.address })).toBe(arbExecutor.deployedBytecode)
    expect(r.funded).toMatch(/^0x[0-9a-f]{64}$/)
    expect(await balanceOf(c, weth, r.address)).toBe(5n * 10n ** 18n)
  }, 60_000)
})
