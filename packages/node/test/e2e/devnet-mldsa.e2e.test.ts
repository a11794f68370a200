// A 4-validator devnet on the ml-dsa-65 scheme (ML-DSA-65 alone, docs/consensus/post-quantum.md):
// `cairn devnet init --signature-scheme ml-dsa-65` writes an ML-DSA seed (0600) per validator and
// a genesis whose validators are the keys' `pqAddress`; four `cairn start` processes finalize, every
// certificate a header carries holds 3,309-byte signatures that verify under ml-dsa-65 against the
// genesis's keys, and blocks' coinbases and `cairn_getValidators` name the ML-DSA addresses.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeBftExtra, ValidatorSet } from '@cairn/consensus'
import { pqAddress, signatureBytes, verifySchemeCertificate } from '@cairn/consensus/pq'
import { mlDsa65Keygen } from '@cairn/crypto'
import { bytesToHex, hexToBytes } from '@cairn/utils'
import { afterAll, describe, expect, it } from 'vitest'
import { rpc } from '../cli/run-cli.ts'
import { CairnProcesses, initDevnet, startDevnetNodes } from './harness.ts'

const dir = mkdtempSync(join(tmpdir(), 'cairn-devnet-mldsa-'))
const procs = new CairnProcesses()
afterAll(() => {
  procs.killAll()
  rmSync(dir, { recursive: true, force: true })
})

interface GenesisBft {
  signatureScheme?: string
  validators: { address: `0x${string}`; power: number; pqPublicKey?: `0x${string}` }[]
}

describe('an ml-dsa-65 devnet (ML-DSA-65 alone)', () => {
  it('init writes seeds and pqAddress validators; four `cairn start` finalize with 3,309-byte signatures', async () => {
    const dn = join(dir, 'dn')
    const { base } = await initDevnet(dn, ['--signature-scheme', 'ml-dsa-65', '--no-staking'])
    const genesis = JSON.parse(readFileSync(join(dn, 'genesis.json'), 'utf8')) as {
      config: { cairn: { bft: GenesisBft & { staking?: boolean } } }
    }
    const bft = genesis.config.cairn.bft
    expect(bft.signatureScheme).toBe('ml-dsa-65')
    expect(bft.staking).toBeUndefined()
    expect(bft.validators).toHaveLength(4)
    for (const [k, i] of [1, 2, 3, 4].entries()) {
      const seed = join(dn, `node-${i}`, 'keys', 'validator.mldsa.seed')
      expect(statSync(seed).mode & 0o777).toBe(0o600)
      const hex = readFileSync(seed, 'utf8').trim()
      expect(hex).toMatch(/^[0-9a-f]{64}$/)
      // Node i's genesis entry: the public key of its seed, and that key's address.
      const pk = mlDsa65Keygen(Uint8Array.from(Buffer.from(hex, 'hex'))).publicKey
      const v = bft.validators[k]
      expect(v?.pqPublicKey).toBe(bytesToHex(pk))
      expect(v?.address).toBe(bytesToHex(pqAddress(pk)))
    }
    const members = new Set<string>(bft.validators.map((v) => v.address.toLowerCase()))

    const { nodes, urls, finalizedAtLeast } = startDevnetNodes(procs, dn, base)
    // Usually ~15 s; generous for a loaded 2-core machine (four processes starting, ML-DSA in JS).
    await finalizedAtLeast(6n, 150_000, 'six finalized blocks on every node')
    for (const n of nodes) expect(n.out()).toMatch(/signing ML-DSA-65/)

    const set = ValidatorSet.create(
      bft.validators.map((v) => ({
        address: hexToBytes(v.address),
        votingPower: BigInt(v.power),
        pqPublicKey: hexToBytes(v.pqPublicKey as `0x${string}`),
      })),
      'ml-dsa-65',
    )
    const sigBytes = signatureBytes('ml-dsa-65')
    expect(sigBytes).toBe(3309)
    // Blocks 2..6 carry the certificates of 1..5 (a fixed set: the genesis set at every height).
    for (let h = 1n; h <= 5n; h++) {
      const block = (await rpc(urls[0] as string, 'eth_getBlockByNumber', [`0x${h.toString(16)}`, false])) as {
        miner: string
      }
      expect(members.has(block.miner.toLowerCase())).toBe(true)
      const child = (await rpc(urls[0] as string, 'eth_getBlockByNumber', [`0x${(h + 1n).toString(16)}`, false])) as {
        extraData: `0x${string}`
      }
      const cert = decodeBftExtra(hexToBytes(child.extraData), 'ml-dsa-65').parentCertificate
      expect(cert?.height).toBe(Number(h))
      if (cert === null) throw new Error(`block ${h + 1n} carries no certificate`)
      expect(cert.signatures.length).toBeGreaterThanOrEqual(3)
      for (const s of cert.signatures) expect(s.signature.length).toBe(sigBytes)
      verifySchemeCertificate(cert, 'ml-dsa-65', set, (a) => set.pqKeyOf(a), 1337n)
    }
    // The RPC reads them under the chain's scheme, and names the validators by their ML-DSA keys.
    const commit = (await rpc(urls[1] as string, 'cairn_getCommit', ['0x3'])) as { signatures: { signature: string }[] }
    expect(commit.signatures.length).toBeGreaterThanOrEqual(3)
    for (const s of commit.signatures) expect(s.signature.length).toBe(2 + 2 * sigBytes)
    const validators = (await rpc(urls[2] as string, 'cairn_getValidators', ['0x3'])) as {
      proposer: string
      validators: { address: string }[]
    }
    expect(new Set(validators.validators.map((v) => v.address.toLowerCase()))).toEqual(members)
    expect(members.has(validators.proposer.toLowerCase())).toBe(true)
  }, 240_000)
})
