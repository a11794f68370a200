/**
 * `cairn signer hsm`: keys on a PKCS#11 token (an HSM; SoftHSM2 for tests), used by a node with
 * `bft.signer = { kind = "hsm", … }` (validator keys) or `p2p.identity = { kind = "hsm", … }` (its
 * identity key, `DATADIR/keys/node.key` imported), and by `--hsm-key` accounts (docs/operations/keys.md).
 *
 * - `import`: puts a hex key file's key on the token, non-extractable (the file can then go offline);
 * - `generate`: makes a new secp256k1 key pair on the token (the private key never leaves it);
 * - `list`: the EC keys on the token, label and address;
 * - `export`: a key's address, public key and peer id (what `cairn staking`, genesis files and
 *   bootnode lists need);
 * - `rotation-proof`: a new key's possession proof for `Staking.rotateConsensusKey`, signed on the token
 *   (on a hybrid chain with the ML-DSA public key of the next seed, `--pq-seed-file`).
 */
import { existsSync } from 'node:fs'
import { ConsensusErrorCode } from '@cairn/consensus'
import { loadOrCreateKey, loadPqSeed } from '@cairn/consensus/validator-keys'
import { STAKING_ADDRESS } from '@cairn/contracts'
import { mlDsa65Keygen, publicKeyToAddress, toChecksumAddress } from '@cairn/crypto'
import { Pkcs11Token, readPinFile } from '@cairn/keys'
import { bytesToHex, CairnError, hexToBytes } from '@cairn/utils'
import { type Command, InvalidArgumentError } from 'commander'
import { formatRotationArgs } from './rotation-args.ts'

interface TokenOptions {
  module: string
  token: string
  pinFile: string
}

function tokenOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--module <file>', 'the PKCS#11 library (SoftHSM2: /usr/lib/softhsm/libsofthsm2.so)')
    .requiredOption('--token <label>', "the token's label")
    .requiredOption('--pin-file <file>', 'a file holding the user PIN (mode 0600)')
}

async function withToken<T>(o: TokenOptions, fn: (token: Pkcs11Token) => T): Promise<T> {
  const token = await Pkcs11Token.open({ module: o.module, token: o.token, pin: readPinFile(o.pinFile, '--pin-file') })
  try {
    return fn(token)
  } finally {
    token.close()
  }
}

/** Registers `cairn signer hsm` under `signer`. */
export function registerSignerHsm(signer: Command): void {
  const hsm = signer
    .command('hsm')
    .description('keys on a PKCS#11 token (HSM): import, generate, list, export, rotation-proof')

  tokenOptions(hsm.command('import'))
    .description("put a validator key file's key on the token, sensitive and not extractable")
    .requiredOption('--key-file <file>', 'the hex key file (e.g. DATADIR/keys/validator.key)')
    .requiredOption('--label <label>', 'the label the key gets on the token (bft.signer.key)')
    .addHelpText(
      'after',
      '\nExample:\n  $ cairn signer hsm import --module /usr/lib/softhsm/libsofthsm2.so --token validators --pin-file ./pin \\\n      --key-file ./node1/keys/validator.key --label node1\n\nThen move the key file off the node (keep a backup offline): a key in two places can sign twice.\n',
    )
    .action(async (o: TokenOptions & { keyFile: string; label: string }) => {
      if (!existsSync(o.keyFile)) {
        throw new CairnError(ConsensusErrorCode.BFT_SIGNER_CONFIG, `no key file ${o.keyFile}`, { fault: 'caller' })
      }
      const key = loadOrCreateKey(o.keyFile, 'validator key')
      const info = await withToken(o, (t) => t.importKey(o.label, key.privateKey))
      process.stdout.write(`Label:   ${info.label}\nAddress: ${key.address}\nToken:   ${o.token}\n`)
    })

  tokenOptions(hsm.command('generate'))
    .description('make a new secp256k1 key pair on the token (the private key never leaves it)')
    .requiredOption('--label <label>', 'the label of the new key (bft.signer.key, or nextKey for a rotation)')
    .action(async (o: TokenOptions & { label: string }) => {
      const info = await withToken(o, (t) => t.generateKey(o.label))
      process.stdout.write(`Label:   ${info.label}\nAddress: ${checksum(info.address)}\nToken:   ${o.token}\n`)
    })

  tokenOptions(hsm.command('list'))
    .description('the EC keys on the token: label, address (secp256k1 keys only)')
    .option('--json', 'one JSON array')
    .action(async (o: TokenOptions & { json?: boolean }) => {
      const keys = await withToken(o, (t) => t.listKeys())
      const rows = keys.map((k) => ({
        label: k.label,
        address: k.address ? checksum(k.address) : null,
        curve: k.curve,
      }))
      if (o.json) process.stdout.write(`${JSON.stringify(rows)}\n`)
      else for (const r of rows) process.stdout.write(`${r.label}\t${r.address ?? `(${r.curve}: not usable)`}\n`)
    })

  tokenOptions(hsm.command('export'))
    .description(
      "a key's address, uncompressed public key and libp2p peer id (as a node identity, p2p.identity); the private key stays on the token",
    )
    .requiredOption('--label <label>', "the key's label")
    .action(async (o: TokenOptions & { label: string }) => {
      const publicKey = await withToken(o, (t) => t.key(o.label).publicKey) // absent or not secp256k1: the clear error
      const { peerIdOfSecp256k1PublicKey } = await import('@cairn/p2p')
      process.stdout.write(
        `Label:     ${o.label}\nAddress:   ${checksum(publicKeyToAddress(publicKey))}\nPublicKey: ${bytesToHex(publicKey)}\nPeerId:    ${peerIdOfSecp256k1PublicKey(publicKey)}\n`,
      )
    })

  tokenOptions(hsm.command('rotation-proof'))
    .description("sign a consensus key rotation's possession proof with a key on the token")
    .requiredOption('--label <label>', 'the new key (generated or imported on the token)')
    .requiredOption('--chain-id <id>', 'the chain the rotation is for', chainIdArg)
    .requiredOption('--operator <address>', "the validator's operator (who sends rotateConsensusKey)", addressArg)
    .option(
      '--pq-seed-file <file>',
      "on a hybrid chain: the new key's ML-DSA seed (DATADIR/keys/validator.next.mldsa.seed); its public key is printed for the three-argument call",
    )
    .option('--json', 'one JSON object (newConsensusAddress, proof, pqPublicKey)')
    .addHelpText(
      'after',
      `\nThen the operator sends it: cast send ${STAKING_ADDRESS} 'rotateConsensusKey(address,bytes)' NEW_ADDRESS PROOF\n(on a hybrid chain, with --pq-seed-file: 'rotateConsensusKey(address,bytes,bytes)' NEW_ADDRESS PROOF PQ_PUBLIC_KEY)\n(docs/operations/keys.md, "Keys on an HSM").\n`,
    )
    .action(
      async (
        o: TokenOptions & { label: string; chainId: bigint; operator: string; pqSeedFile?: string; json?: boolean },
      ) => {
        const { rotationDigest } = await import('@cairn/consensus')
        // Read first: a bad seed file stops before the token opens.
        const pqPublicKey = o.pqSeedFile === undefined ? null : mlDsa65Keygen(loadPqSeed(o.pqSeedFile)).publicKey
        const { address, proof } = await withToken(o, (t) => {
          const key = t.key(o.label)
          const digest = rotationDigest(
            o.chainId,
            hexToBytes(STAKING_ADDRESS),
            hexToBytes(o.operator as `0x${string}`),
            key.address,
          )
          return { address: key.address, proof: key.sign(digest) }
        })
        process.stdout.write(formatRotationArgs({ newConsensusAddr: address, proof, pqPublicKey }, o.json === true))
      },
    )
}

function addressArg(v: string): string {
  if (!/^0x[0-9a-fA-F]{40}$/.test(v)) throw new InvalidArgumentError('expected an address (0x + 40 hex digits)')
  return v
}

function chainIdArg(v: string): bigint {
  if (!/^\d{1,20}$/.test(v) || BigInt(v) === 0n)
    throw new InvalidArgumentError('expected a chain id (a positive integer)')
  return BigInt(v)
}

function checksum(address: Uint8Array | null): string {
  return address === null ? '' : toChecksumAddress(address)
}
