// A 4-validator devnet on the hybrid scheme (secp256k1 ‖ ML-DSA-65, docs/consensus/post-quantum.md):
// `cairn devnet init --signature-scheme hybrid` writes an ML-DSA seed (0600) beside each validator
// key and the public keys into the genesis; four `cairn start` processes finalize, and every
// certificate a header carries holds 3,374-byte signatures that verify under hybrid against the
// genesis's keys. Validator 4's secp256k1 key lives on a SoftHSM2 token (`bft.signer` kind hsm),
// its ML-DSA seed in its datadir: its votes are in the certificates too (where softhsm2 is absent,
// it signs with its datadir key, said in a warning).
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { decodeBftExtra, ValidatorSet } from '@cairn/consensus'
import { HYBRID_SIGNATURE_BYTES, verifySchemeCertificate } from '@cairn/consensus/pq'
import { bytesToHex, hexToBytes } from '@cairn/utils'
import { afterAll, describe, expect, it } from 'vitest'
import { makeSoftHsm, SOFTHSM_MODULE, softHsmMissing } from '../../../keys/test/hsm/softhsm.ts'
import { rpc, runCli } from '../cli/run-cli.ts'
import { CairnProcesses, initDevnet, startDevnetNodes } from './harness.ts'

const missing = softHsmMissing()
if (missing) console.warn(`validator 4 of the hybrid devnet signs from its datadir, not SoftHSM2: ${missing}`)
const hsm = makeSoftHsm('cairn-devnet-hybrid-')
const dir = hsm.dir
const env = { SOFTHSM2_CONF: hsm.conf }
const procs = new CairnProcesses(env)
afterAll(() => {
  procs.killAll()
  hsm.remove()
})

interface GenesisBft {
  signatureScheme?: string
  validators: { address: `0x${string}`; power: number; pqPublicKey?: `0x${string}` }[]
}

describe('a hybrid devnet (secp256k1 ‖ ML-DSA-65)', () => {
  it('init writes seeds and keys; four `cairn start` finalize with 3,374-byte certificate signatures', async () => {
    const dn = join(dir, 'dn')
    const { base } = await initDevnet(dn, ['--signature-scheme', 'hybrid', '--no-staking'])
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

    if (missing === null) {
      // Validator 4's secp256k1 key onto the token and out of its datadir; the seed stays.
      hsm.initToken('hybrid', '1234')
      writeFileSync(join(dir, 'pin'), '1234\n', { mode: 0o600 })
      const keyFile = join(dn, 'node-4', 'keys', 'validator.key')
      const tokenArgs = ['--module', SOFTHSM_MODULE, '--token', 'hybrid', '--pin-file', join(dir, 'pin')]
      const imported = await runCli(
        ['signer', 'hsm', 'import', ...tokenArgs, '--key-file', keyFile, '--label', 'validator-4'],
        { env },
      )
      expect(imported.code, imported.stderr).toBe(0)
      renameSync(keyFile, join(dir, 'validator-4.key.offline'))
      const config = readFileSync(join(dn, 'node-4.toml'), 'utf8').replace(/^validator = true$/m, 'validator = false')
      writeFileSync(
        join(dn, 'node-4.toml'),
        `${config}\n[bft.signer]\nkind = "hsm"\nmodule = ${JSON.stringify(SOFTHSM_MODULE)}\ntoken = "hybrid"\npinFile = ${JSON.stringify(join(dir, 'pin'))}\nkey = "validator-4"\n`,
      )
    }
    const { nodes, urls, finalizedAtLeast } = startDevnetNodes(procs, dn, base)
    // Usually ~15 s; generous for a loaded 2-core machine (four processes starting, ML-DSA in JS).
    await finalizedAtLeast(6n, 150_000, 'six finalized blocks on every node')
    for (const n of nodes.slice(0, 3)) expect(n.out()).toMatch(/signing hybrid/)
    if (missing === null)
      expect(nodes[3]?.out()).toMatch(/hsm signer ready.*"scheme":"hybrid"|"scheme":"hybrid".*hsm signer ready/)
    else expect(nodes[3]?.out()).toMatch(/signing hybrid/)

    const set = ValidatorSet.create(
      bft.validators.map((v) => ({
        address: hexToBytes(v.address),
        votingPower: BigInt(v.power),
        pqPublicKey: hexToBytes(v.pqPublicKey as `0x${string}`),
      })),
      'hybrid',
    )
    // Blocks 2..6 carry the certificates of 1..5 (a fixed set: the genesis set at every height).
    const signers = new Set<string>()
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
      for (const sig of cert.signatures)
        signers.add(bytesToHex(set.at(sig.validatorIndex)?.address ?? new Uint8Array()))
    }
    // Validator 4 (on the token) signed at least one of them, or a sixth: 3 of 4 make a certificate.
    const v4 = (bft.validators[3] as { address: string }).address.toLowerCase()
    if (!signers.has(v4)) {
      const commit = (await rpc(urls[0] as string, 'cairn_getCommit', ['0x6'])) as {
        signatures: { validator: string | null }[]
      }
      for (const sig of commit.signatures) signers.add(sig.validator?.toLowerCase() ?? '')
    }
    expect(signers.has(v4), `validator 4 (${v4}) in the certificates of heights 1..6`).toBe(true)
    // The RPC reads them under the chain's scheme too.
    const commit = (await rpc(urls[1] as string, 'cairn_getCommit', ['0x3'])) as { signatures: { signature: string }[] }
    expect(commit.signatures.length).toBeGreaterThanOrEqual(3)
    for (const s of commit.signatures) expect(s.signature.length).toBe(2 + 2 * 3374)
  }, 240_000)
})
