import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { parseSignatureScheme } from '@cairn/consensus/pq'
import { loadOrCreateKey, loadPqSeed, PQ_SEED_FILE } from '@cairn/consensus/validator-keys'
import { STAKING_ADDRESS } from '@cairn/contracts'
import { hexToBytes } from '@cairn/utils'
import type { Command } from 'commander'
import { readPassword } from '../../config/password.ts'
import { writeKeystore } from '../../keystore-dir.ts'
import { formatRotationArgs } from '../rotation-args.ts'
import { addressArg, bad, chainIdArg, decryptValidatorKeystore } from './args.ts'

/** Registers `cairn signer import-key`: a node's validator key file into a keystore for the signer. */
export function registerImportKey(signer: Command): void {
  signer
    .command('import-key')
    .description("encrypt a node's validator key (DATADIR/keys/validator.key) into a keystore for the signer")
    .requiredOption('--key-file <file>', 'the hex key file (e.g. DATADIR/keys/validator.key)')
    .requiredOption('--out <dir>', 'the directory the keystore is written to')
    .option('--password-file <file>', 'the new keystore password (else CAIRN_PASSWORD, else a prompt)')
    .option('--scrypt-n <n>', 'scrypt cost (default 262144; lower only for tests)')
    .addHelpText(
      'after',
      '\nExample:\n  $ cairn signer import-key --key-file ./node1/keys/validator.key --out ./signer-keys --password-file ./pw.txt\n\nThen move the key file off the node (keep a backup offline): a key in two places can sign twice.\n',
    )
    .action(async (o: { keyFile: string; out: string; passwordFile?: string; scryptN?: string }) => {
      if (!existsSync(o.keyFile)) throw bad(`no key file ${o.keyFile}`)
      const key = loadOrCreateKey(o.keyFile, 'validator key')
      const password = await readPassword({
        passwordFile: o.passwordFile,
        env: process.env,
        prompt: 'New password: ',
        confirm: true,
      })
      const entry = await writeKeystore(
        o.out,
        key.privateKey,
        password,
        o.scryptN !== undefined ? { n: Number(o.scryptN) } : undefined,
      )
      process.stdout.write(`Address:  ${entry.address}\nKeystore: ${entry.file}\n`)
      const seed = join(dirname(o.keyFile), PQ_SEED_FILE)
      if (existsSync(seed)) {
        process.stdout.write(
          `ML-DSA seed: ${seed} (hybrid or ml-dsa-65 chain): move it to the signer too and give it as --pq-seed-file, paired with this keystore\n`,
        )
      }
    })
}

interface RotationProofOptions {
  chainId: bigint
  operator: string
  signatureScheme: string
  keystore?: string
  pqSeedFile?: string
  passwordFile?: string
  json?: boolean
}

/** Registers `cairn signer rotation-proof`: `Staking.rotateConsensusKey`'s arguments from the new key's files. */
export function registerRotationProof(signer: Command): void {
  signer
    .command('rotation-proof')
    .description(
      "a consensus key rotation's arguments for Staking.rotateConsensusKey (new address, possession proof, and on a hybrid or ml-dsa-65 chain the ML-DSA-65 public key) from the new key's files on the signer machine",
    )
    .requiredOption('--chain-id <id>', 'the chain the rotation is for', chainIdArg)
    .requiredOption('--operator <address>', "the validator's operator (who sends rotateConsensusKey)", addressArg)
    .option('--signature-scheme <scheme>', "the chain's consensus signature scheme", 'secp256k1')
    .option('--keystore <file>', "the new key's keystore (secp256k1 and hybrid chains)")
    .option('--pq-seed-file <file>', "the new key's ML-DSA seed (hybrid and ml-dsa-65 chains)")
    .option('--password-file <file>', "the keystore's password (else CAIRN_PASSWORD, else a prompt)")
    .option('--json', 'one JSON object (newConsensusAddress, proof, pqPublicKey)')
    .addHelpText(
      'after',
      `
Example (hybrid: the next keystore and seed the signer serves beside the current pair):
  $ cairn signer rotation-proof --chain-id 1337 --operator 0xOPERATOR --signature-scheme hybrid \\
      --keystore ./signer-keys/UTC--…--NEW --pq-seed-file ./signer-keys/node1.next.mldsa.seed --password-file ./pw.txt

It prints the cast send line for the operator. Start the signer with the new key and the node with
bft.signer.nextAddress before the transaction lands (docs/operations/keys.md).
`,
    )
    .action(rotationProof)
}

/** `cairn signer rotation-proof`: checks the key files against the scheme, then prints the arguments. */
async function rotationProof(o: RotationProofOptions): Promise<void> {
  const scheme = parseSignatureScheme(o.signatureScheme)
  if (scheme !== 'ml-dsa-65' && o.keystore === undefined)
    throw bad(`a ${scheme} rotation needs the new key's keystore`, 'give --keystore FILE')
  if (scheme === 'ml-dsa-65' && o.keystore !== undefined)
    throw bad(
      'an ml-dsa-65 consensus key is its ML-DSA seed: --keystore would be unused',
      'give --pq-seed-file FILE only',
    )
  if (scheme !== 'secp256k1' && o.pqSeedFile === undefined)
    throw bad(
      `a ${scheme} rotation registers the new key's ML-DSA-65 public key`,
      "give --pq-seed-file FILE (the seed the signer serves with the new key's --keystore)",
    )
  if (scheme === 'secp256k1' && o.pqSeedFile !== undefined)
    throw bad('--pq-seed-file is for a hybrid or ml-dsa-65 chain', 'give --signature-scheme hybrid (or ml-dsa-65)')
  const pqSeed = o.pqSeedFile === undefined ? null : loadPqSeed(o.pqSeedFile)
  let key: Uint8Array | null = null
  if (o.keystore !== undefined) {
    const password = await readPassword({ passwordFile: o.passwordFile, env: process.env, prompt: 'Password: ' })
    key = await decryptValidatorKeystore(o.keystore, password)
  }
  const { pqRotationArgs, rotationProof } = await import('@cairn/consensus')
  const staking = hexToBytes(STAKING_ADDRESS)
  const operator = hexToBytes(o.operator as `0x${string}`)
  const args =
    scheme === 'secp256k1'
      ? { ...rotationProof(o.chainId, staking, operator, key as Uint8Array), pqPublicKey: null }
      : pqRotationArgs(
          o.chainId,
          staking,
          operator,
          scheme === 'hybrid'
            ? { scheme, key: key as Uint8Array, pqSeed: pqSeed as Uint8Array }
            : { scheme, pqSeed: pqSeed as Uint8Array },
        )
  process.stdout.write(formatRotationArgs(args, o.json === true))
}
