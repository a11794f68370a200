// `cairn devnet init`'s options that cannot go together are refused before anything is written.
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
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
})
