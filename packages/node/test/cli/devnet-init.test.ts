// `cairn devnet init`'s options that cannot go together are refused before anything is written.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseBftConfig } from '@cairn/consensus'
import { pqAddress } from '@cairn/consensus/pq'
import { bytesToHex } from '@cairn/utils'
import { afterAll, describe, expect, it } from 'vitest'
import { initDevnet } from '../../src/cli/commands/devnet.ts'

const root = mkdtempSync(join(tmpdir(), 'cairn-devnet-init-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
const base = { validators: 4, basePort: 8545, p2pBasePort: 30303, blockTimeMs: 1000 }

describe('devnet init', () => {
  it('refuses staking parameters on a hybrid devnet (a fixed set), writing nothing', async () => {
    const dir = join(root, 'hybrid-param')
    await expect(
      initDevnet({ ...base, dir, signatureScheme: 'hybrid', param: ['staking.epochLength=5'] }),
    ).rejects.toMatchObject({
      code: 'NODE_DEVNET_OPTIONS',
      message: expect.stringMatching(/hybrid devnet has a fixed validator set/),
    })
    expect(existsSync(dir)).toBe(false)
  })

  it('writes a hybrid devnet without them: a fixed set with ML-DSA keys', async () => {
    const dir = join(root, 'hybrid')
    const files = await initDevnet({ ...base, dir, signatureScheme: 'hybrid' })
    expect(files).toHaveLength(4)
    expect(existsSync(join(dir, 'node-1', 'keys', 'validator.mldsa.seed'))).toBe(true)
  })

  it('writes an ml-dsa-65 devnet: a fixed set known by pqAddress of each key, refusing staking parameters', async () => {
    const refused = join(root, 'mldsa-param')
    await expect(
      initDevnet({ ...base, dir: refused, signatureScheme: 'ml-dsa-65', param: ['staking.epochLength=5'] }),
    ).rejects.toMatchObject({ message: expect.stringMatching(/ml-dsa-65 devnet has a fixed validator set/) })
    expect(existsSync(refused)).toBe(false)
    const dir = join(root, 'mldsa')
    expect(await initDevnet({ ...base, dir, signatureScheme: 'ml-dsa-65' })).toHaveLength(4)
    const bft = parseBftConfig(JSON.parse(readFileSync(join(dir, 'genesis.json'), 'utf8')))
    expect(bft.signatureScheme).toBe('ml-dsa-65')
    expect(bft.staking).toBeUndefined()
    expect(bft.validators).toHaveLength(4)
    for (const v of bft.validators) {
      expect(bytesToHex(v.address)).toBe(bytesToHex(pqAddress(v.pqPublicKey as Uint8Array)))
    }
    for (const i of [1, 2, 3, 4]) expect(existsSync(join(dir, `node-${i}`, 'keys', 'validator.mldsa.seed'))).toBe(true)
  })
})
