// A 4-validator devnet on the hybrid scheme (secp256k1 ‖ ML-DSA-65, docs/consensus/post-quantum.md):
// `cairn devnet init --signature-scheme hybrid` writes an ML-DSA seed (0600) beside each validator
// key and the public keys into the genesis; four `cairn start` processes finalize, and every
// certificate a header carries holds 3,374-byte signatures that verify under hybrid against the
// genesis's keys.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeBftExtra, ValidatorSet } from '@cairn/consensus'
import { HYBRID_SIGNATURE_BYTES, verifySchemeCertificate } from '@cairn/consensus/pq'
import { hexToBytes } from '@cairn/utils'
import { afterAll, describe, expect, it } from 'vitest'
import { rpc } from '../cli/run-cli.ts'
import { CairnProcesses, initDevnet, waitFor } from './harness.ts'

const dir = mkdtempSync(join(tmpdir(), 'cairn-devnet-hybrid-'))
const procs = new CairnProcesses()
afterAll(() => {
  procs.killAll()
  rmSync(dir, { recursive: true, force: true })
})

interface GenesisBft {
  signatureScheme?: string
  validators: { address: `0x${string}`; power: number; pqPublicKey?: `0x${string}` }[]
}

describe('a hybrid devnet (secp256k1 ‖ ML-DSA-65)', () => {
  it('init writes seeds and keys; four `cairn start` finalize with 3,374-byte certificate signatures', async () => {
    const dn = join(dir, 'dn')
    const { base } = await initDevnet(dn, ['--signature-scheme', 'hybrid'])
    for (const i of [1, 2, 3, 4]) {
      const seed = join(dn, `node-${i}`, 'keys', 'validator.mldsa.seed')
      expect(statSync(seed).mode & 0o777).toBe(0o600)
      expect(readFileSync(seed, 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/)
    }
    const genesis = JSON.parse(readFileSync(join(dn, 'genesis.json'), 'utf8')) as {
      config: { cairn: { bft: GenesisBft & { staking?: boolean } } }
    }
    const bft = genesis.config.cairn.bft
    expect(bft.signatureScheme).toBe('hybrid')
    expect(bft.staking).toBeUndefined()
    expect(bft.validators).toHaveLength(4)
    for (const v of bft.validators) expect(hexToBytes(v.pqPublicKey as `0x${string}`).length).toBe(1952)

    const nodes = [1, 2, 3, 4].map((i) => procs.start(['start', '--config', join(dn, `node-${i}.toml`)]))
    const out = () => nodes.map((n, k) => `--- node-${k + 1}\n${n.out().slice(-1500)}`).join('\n')
    const urls = [0, 1, 2, 3].map((k) => `http://127.0.0.1:${base + k}`)
    const finalized = async (url: string) =>
      BigInt(((await rpc(url, 'eth_getBlockByNumber', ['finalized', false])) as { number: string }).number)
    // Usually ~15 s; generous for a loaded 2-core machine (four processes starting, ML-DSA in JS).
    await waitFor(
      async () => (await Promise.all(urls.map(finalized))).every((n) => n >= 6n),
      150_000,
      'six finalized blocks on every node',
      out,
    )
    for (const n of nodes) expect(n.out()).toMatch(/signing hybrid/)

    const set = ValidatorSet.create(
      bft.validators.map((v) => ({
        address: hexToBytes(v.address),
        votingPower: BigInt(v.power),
        pqPublicKey: hexToBytes(v.pqPublicKey as `0x${string}`),
      })),
      'hybrid',
    )
    // Blocks 2..6 carry the certificates of 1..5 (a fixed set: the genesis set at every height).
    for (let h = 1n; h <= 5n; h++) {
      const child = (await rpc(urls[0] as string, 'eth_getBlockByNumber', [`0x${(h + 1n).toString(16)}`, false])) as {
        extraData: `0x${string}`
      }
      const cert = decodeBftExtra(hexToBytes(child.extraData), 'hybrid').parentCertificate
      expect(cert?.height).toBe(Number(h))
      if (cert === null) throw new Error(`block ${h + 1n} carries no certificate`)
      expect(cert.signatures.length).toBeGreaterThanOrEqual(3)
      for (const s of cert.signatures) expect(s.signature.length).toBe(HYBRID_SIGNATURE_BYTES)
      expect(HYBRID_SIGNATURE_BYTES).toBe(3374)
      verifySchemeCertificate(cert, 'hybrid', set, (a) => set.pqKeyOf(a), 1337n)
    }
    // The RPC reads them under the chain's scheme too.
    const commit = (await rpc(urls[1] as string, 'cairn_getCommit', ['0x3'])) as { signatures: { signature: string }[] }
    expect(commit.signatures.length).toBeGreaterThanOrEqual(3)
    for (const s of commit.signatures) expect(s.signature.length).toBe(2 + 2 * 3374)
  }, 240_000)
})
