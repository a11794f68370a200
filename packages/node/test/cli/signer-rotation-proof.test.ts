// `cairn signer rotation-proof`: the arguments of Staking.rotateConsensusKey from the new key's
// files on the remote signer's machine (its keystore, its ML-DSA seed), in process: under hybrid the
// keystore's address, its possession proof (recovering to it, as the contract checks) and the seed's
// ML-DSA public key; under ml-dsa-65 the seed's pqAddress, an empty proof and its key; under
// secp256k1 the two-argument form; the flags a scheme does not take are refused, saying why.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { recoverSigner, rotationDigest } from '@cairn/consensus'
import { STAKING_ADDRESS } from '@cairn/contracts'
import { keccak256, mlDsa65Keygen, privateKeyToAddress, toChecksumAddress } from '@cairn/crypto'
import { bytesToHex, hexToBytes } from '@cairn/utils'
import { Command } from 'commander'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { registerSigner } from '../../src/cli/commands/signer.ts'
import { writeKeystore } from '../../src/keystore-dir.ts'

const dir = mkdtempSync(join(tmpdir(), 'cairn-rotation-proof-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const KEY = keccak256(new TextEncoder().encode('next consensus key'))
const SEED = new Uint8Array(32).fill(0x5e)
const OPERATOR = `0x${'cd'.repeat(20)}`
const seedFile = join(dir, 'next.mldsa.seed')
const pwFile = join(dir, 'pw')
let keystore = ''

beforeAll(async () => {
  writeFileSync(seedFile, `${Buffer.from(SEED).toString('hex')}\n`, { mode: 0o600 })
  writeFileSync(pwFile, 'pw\n', { mode: 0o600 })
  keystore = (await writeKeystore(join(dir, 'keys'), KEY, 'pw', { n: 1024 })).file
})

interface Printed {
  newConsensusAddress: string
  proof: string
  pqPublicKey?: string
}

async function run(args: string[]): Promise<Printed> {
  const out: string[] = []
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out.push(String(chunk))
    return true
  })
  try {
    const program = new Command().exitOverride()
    registerSigner(program)
    const base = ['signer', 'rotation-proof', '--chain-id', '1337', '--operator', OPERATOR, '--json']
    await program.parseAsync([...base, ...args], { from: 'user' })
  } finally {
    write.mockRestore()
  }
  return JSON.parse(out.join('')) as Printed
}

const recovered = (printed: Printed) => {
  const address = hexToBytes(printed.newConsensusAddress as `0x${string}`)
  const digest = rotationDigest(1337n, hexToBytes(STAKING_ADDRESS), hexToBytes(OPERATOR as `0x${string}`), address)
  const by = recoverSigner(digest, hexToBytes(printed.proof as `0x${string}`))
  return by === null ? null : toChecksumAddress(bytesToHex(by))
}

describe('cairn signer rotation-proof', () => {
  it('hybrid: the keystore’s address and proof, and the seed’s ML-DSA public key', async () => {
    const printed = await run([
      '--signature-scheme',
      'hybrid',
      '--keystore',
      keystore,
      '--pq-seed-file',
      seedFile,
      '--password-file',
      pwFile,
    ])
    const address = toChecksumAddress(bytesToHex(privateKeyToAddress(KEY)))
    expect(printed.newConsensusAddress).toBe(address)
    expect(recovered(printed)).toBe(address)
    expect(printed.pqPublicKey).toBe(bytesToHex(mlDsa65Keygen(SEED).publicKey))
  })

  it('ml-dsa-65: the seed alone — its pqAddress, an empty proof, its key', async () => {
    const printed = await run(['--signature-scheme', 'ml-dsa-65', '--pq-seed-file', seedFile])
    const pq = mlDsa65Keygen(SEED).publicKey
    expect(printed).toEqual({
      newConsensusAddress: toChecksumAddress(bytesToHex(keccak256(pq).subarray(12))),
      proof: '0x',
      pqPublicKey: bytesToHex(pq),
    })
  })

  it('secp256k1: the two-argument form; the flags a scheme does not take are refused', async () => {
    const printed = await run(['--keystore', keystore, '--password-file', pwFile])
    expect(printed.pqPublicKey).toBeUndefined()
    expect(recovered(printed)).toBe(printed.newConsensusAddress)
    const refused = (args: string[]) =>
      run(args).then(
        () => '',
        (e: unknown) => String((e as Error).message),
      )
    expect(await refused(['--signature-scheme', 'hybrid', '--keystore', keystore])).toMatch(
      /registers the new key's ML-DSA-65 public key/,
    )
    expect(await refused(['--signature-scheme', 'hybrid', '--pq-seed-file', seedFile])).toMatch(
      /a hybrid rotation needs the new key's keystore/,
    )
    expect(
      await refused(['--signature-scheme', 'ml-dsa-65', '--keystore', keystore, '--pq-seed-file', seedFile]),
    ).toMatch(/--keystore would be unused/)
    expect(await refused(['--keystore', keystore, '--pq-seed-file', seedFile])).toMatch(
      /--pq-seed-file is for a hybrid or ml-dsa-65 chain/,
    )
  })
})
