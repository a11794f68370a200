// `cairn devnet init`'s options that cannot go together are refused before anything is written.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseBftConfig, resolveBftConfig } from '@cairn/consensus'
import { pqAddress } from '@cairn/consensus/pq'
import { bytesToHex } from '@cairn/utils'
import { afterAll, describe, expect, it } from 'vitest'
import { initDevnet } from '../../src/cli/commands/devnet.ts'

const root = mkdtempSync(join(tmpdir(), 'cairn-devnet-init-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
const base = { validators: 4, basePort: 8545, p2pBasePort: 30303, blockTimeMs: 1000 }

describe('devnet init', () => {
  it('writes a hybrid staking devnet with staking parameters: the ML-DSA keys in the staking contract', async () => {
    const dir = join(root, 'hybrid-param')
    const files = await initDevnet({ ...base, dir, signatureScheme: 'hybrid', param: ['staking.epochLength=5'] })
    expect(files).toHaveLength(4)
    expect(existsSync(join(dir, 'node-1', 'keys', 'validator.mldsa.seed'))).toBe(true)
    const genesis = JSON.parse(readFileSync(join(dir, 'genesis.json'), 'utf8'))
    const bft = await resolveBftConfig(genesis)
    expect(bft).toMatchObject({ staking: true, signatureScheme: 'hybrid' })
    expect(bft.validators).toHaveLength(4)
    for (const v of bft.validators) expect(v.pqPublicKey?.length).toBe(1952)
  })

  it('writes a hybrid devnet with --no-staking: a fixed set with ML-DSA keys', async () => {
    const dir = join(root, 'hybrid')
    const files = await initDevnet({ ...base, dir, signatureScheme: 'hybrid', staking: false })
    expect(files).toHaveLength(4)
    expect(existsSync(join(dir, 'node-1', 'keys', 'validator.mldsa.seed'))).toBe(true)
    expect(parseBftConfig(JSON.parse(readFileSync(join(dir, 'genesis.json'), 'utf8'))).staking).toBeUndefined()
  })

  it('writes an ml-dsa-65 staking devnet: consensus addresses are pqAddress, operators the secp256k1 accounts', async () => {
    const dir = join(root, 'mldsa-staking')
    expect(await initDevnet({ ...base, dir, signatureScheme: 'ml-dsa-65' })).toHaveLength(4)
    const genesis = JSON.parse(readFileSync(join(dir, 'genesis.json'), 'utf8'))
    const bft = await resolveBftConfig(genesis)
    expect(bft).toMatchObject({ staking: true, signatureScheme: 'ml-dsa-65' })
    for (const v of bft.validators) {
      expect(bytesToHex(v.address)).toBe(bytesToHex(pqAddress(v.pqPublicKey as Uint8Array)))
      // The pq address holds no coin: the operator (a secp256k1 account) is the one funded.
      expect(genesis.alloc[bytesToHex(v.address)]).toBeUndefined()
    }
  })

  it('writes an ml-dsa-65 devnet with --no-staking: a fixed set known by pqAddress of each key', async () => {
    const dir = join(root, 'mldsa')
    expect(await initDevnet({ ...base, dir, signatureScheme: 'ml-dsa-65', staking: false })).toHaveLength(4)
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
