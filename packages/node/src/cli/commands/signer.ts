/**
 * `cairn signer`: the remote signer (docs/operations/keys.md) — validator keys in a process of
 * their own, with their own double-sign protection, answering nodes over mutual TLS.
 *
 * - `serve`: holds one or more validator keystores and signs votes and proposals for pinned nodes;
 * - `import-key`: encrypts a node's `DATADIR/keys/validator.key` into a keystore for the signer;
 * - `rotation-proof`: the arguments of `Staking.rotateConsensusKey` for a new key held by the signer
 *   (its keystore, and its ML-DSA seed on a hybrid or ml-dsa-65 chain), for the operator to send;
 * - `certs`: a CA, the signer's certificate and one client certificate per node (openssl);
 * - `fingerprint`: the SHA-256 fingerprint of a certificate (what the signer pins);
 * - `hsm …`: validator keys on a PKCS#11 token (cli/signer-hsm.ts).
 */
import { execFileSync } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { dirname, join } from 'node:path'
import { ConsensusErrorCode, type DigestKey } from '@cairn/consensus'
import { parseSignatureScheme, rawDigestKey } from '@cairn/consensus/pq'
import { checkKeyFilePermissions, loadOrCreateKey, loadPqSeed, PQ_SEED_FILE } from '@cairn/consensus/validator-keys'
import { STAKING_ADDRESS } from '@cairn/contracts'
import { decryptKeystore } from '@cairn/crypto'
import { Pkcs11Token, readPinFile } from '@cairn/keys'
import { CairnError, errorMessage, hexToBytes } from '@cairn/utils'
import { type Command, InvalidArgumentError } from 'commander'
import { readPassword } from '../../config/password.ts'
import { writeKeystore } from '../../keystore-dir.ts'
import { buildCommit, VERSION } from '../../version.ts'
import { formatRotationArgs } from '../rotation-args.ts'
import { registerSignerHsm } from '../signer-hsm.ts'

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value]
}

function chainIdArg(v: string): bigint {
  if (!/^\d{1,20}$/.test(v) || BigInt(v) === 0n)
    throw new InvalidArgumentError('expected a chain id (a positive integer)')
  return BigInt(v)
}

function listenArg(v: string): { host: string; port: number } {
  const m = /^(.*):(\d{1,5})$/.exec(v)
  const port = Number(m?.[2])
  if (!m || port > 65535) throw new InvalidArgumentError('expected HOST:PORT (e.g. 127.0.0.1:9797)')
  return { host: (m[1] as string).replace(/^\[|\]$/g, '') || '127.0.0.1', port }
}

function bad(message: string, hint?: string): CairnError {
  return new CairnError(ConsensusErrorCode.BFT_SIGNER_CONFIG, message, { fault: 'caller', ...(hint ? { hint } : {}) })
}

/** A keystore the signer holds, decrypted (its permissions checked first). */
async function decryptValidatorKeystore(file: string, password: string): Promise<Uint8Array> {
  checkKeyFilePermissions(file, 'keystore')
  try {
    return await decryptKeystore(JSON.parse(readPem(file, 'keystore')), password)
  } catch (err) {
    if (err instanceof CairnError && err.code === ConsensusErrorCode.BFT_SIGNER_CONFIG) throw err
    throw bad(`cannot decrypt keystore ${file}: ${errorMessage(err)}`, 'check the password (--password-file)')
  }
}

function addressArg(v: string): string {
  if (!/^0x[0-9a-fA-F]{40}$/.test(v)) throw new InvalidArgumentError('expected an address (0x + 40 hex digits)')
  return v
}

function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    throw bad(`cannot read ${what} ${path}: ${errorMessage(err)}`)
  }
}

interface ServeOptions {
  chainId: bigint
  listen: { host: string; port: number }
  keystore: string[]
  pqSeedFile: string[]
  signatureScheme: string
  passwordFile?: string
  tlsCert: string
  tlsKey: string
  client: string[]
  clientCa: string[]
  db: string
  hsmModule?: string
  hsmToken?: string
  hsmPinFile?: string
  hsmKey: string[]
  txKeystore: string[]
  txAllowTo: string[]
  txAllowCreate?: boolean
  txMaxValue?: string
  'metrics.port'?: string
  'metrics.host': string
  logLevel: string
  maxConnections?: number
  maxConnectionsPerIp?: number
  handshakeTimeoutMs?: number
  maxSessions?: number
  maxSessionsPerClient?: number
  frameTimeoutMs?: number
  maxHeightJump?: number
}

/** A whole number flag (the ranges are checked with the limits, `resolveSignerLimits`). */
function wholeArg(v: string): number {
  if (!/^\d{1,9}$/.test(v)) throw new InvalidArgumentError('expected a whole number')
  return Number(v)
}

/** The transaction policy of `serve`'s --tx-* flags, checked. */
function txPolicyOf(o: ServeOptions): {
  allowTo: { to: string; selectors: string[] | null }[] | null
  allowCreate: boolean
  maxValue: bigint | null
} {
  const allowTo = o.txAllowTo.map((a) => {
    const m = /^(0x[0-9a-fA-F]{40})(?::(0x[0-9a-fA-F]{8}(?:,0x[0-9a-fA-F]{8})*))?$/.exec(a)
    if (!m)
      throw bad(
        `--tx-allow-to ${a} is not ADDRESS or ADDRESS:SELECTOR[,SELECTOR…]`,
        'e.g. --tx-allow-to 0xExecutor:0xd37ae047 (ArbExecutor.execute; other selectors: cast sig "f(…)")',
      )
    return { to: (m[1] as string).toLowerCase(), selectors: m[2] ? m[2].toLowerCase().split(',') : null }
  })
  if (o.txMaxValue !== undefined && !/^[0-9]{1,78}$/.test(o.txMaxValue))
    throw bad(
      `--tx-max-value ${o.txMaxValue} is not a whole number of wei`,
      'e.g. --tx-max-value 1000000000000000000 (1 ether)',
    )
  const set = o.txAllowTo.length > 0 || o.txAllowCreate === true || o.txMaxValue !== undefined
  if (set && o.txKeystore.length === 0)
    throw bad('the --tx-* policy flags need a transaction key', 'give --tx-keystore FILE')
  return {
    allowTo: allowTo.length > 0 ? allowTo : null,
    allowCreate: o.txAllowCreate === true,
    maxValue: o.txMaxValue === undefined ? null : BigInt(o.txMaxValue),
  }
}

/**
 * The post-quantum flags of `serve`, checked against one another: under `hybrid` one
 * --pq-seed-file per validator key (paired in order: the --keystore keys, then the --hsm-key
 * ones, whose token holds the secp256k1 part), under `ml-dsa-65` seeds and no --keystore or
 * --hsm-key (a PKCS#11 token has no ML-DSA), under `secp256k1` no seed.
 */
function checkPqFlags(o: ServeOptions, scheme: 'secp256k1' | 'hybrid' | 'ml-dsa-65'): void {
  const seeds = o.pqSeedFile.length
  if (scheme === 'secp256k1') {
    if (seeds > 0)
      throw bad(
        '--pq-seed-file is for a hybrid or ml-dsa-65 chain',
        'give --signature-scheme hybrid (or ml-dsa-65) for such a chain, or drop --pq-seed-file',
      )
    return
  }
  if (scheme === 'hybrid') {
    const validators = o.keystore.length + o.hsmKey.length
    if (validators === 0 || seeds !== validators)
      throw bad(
        `a hybrid signer needs one --pq-seed-file per validator key (got ${o.keystore.length} keystores, ${o.hsmKey.length} HSM keys and ${seeds} seeds)`,
        'pair each key with its validator.mldsa.seed, in order, the --keystore keys first and then the --hsm-key ones: --keystore A.json --pq-seed-file A.seed --hsm-key b --pq-seed-file B.seed',
      )
    return
  }
  if (o.hsmKey.length > 0)
    throw bad(
      `--hsm-key is not supported on an ${scheme} chain (a PKCS#11 token has no ML-DSA, and there is no secp256k1 part)`,
      'give each validator as --pq-seed-file FILE only',
    )
  if (o.keystore.length > 0)
    throw bad(
      'an ml-dsa-65 validator key is its ML-DSA seed: --keystore would be unused',
      'give each validator as --pq-seed-file FILE only (transaction keys stay --tx-keystore)',
    )
  if (seeds === 0) throw bad('an ml-dsa-65 signer needs a validator seed', 'give --pq-seed-file FILE per validator')
}

/** Registers `cairn signer`. */
export function registerSigner(program: Command): void {
  const signer = program
    .command('signer')
    .description('the remote signer: validator keys in a process of their own, with double-sign protection')

  signer
    .command('serve')
    .description('hold validator keystores and sign votes and proposals for pinned nodes over mutual TLS')
    .requiredOption('--chain-id <id>', 'the chain it signs for (requests for any other are refused)', chainIdArg)
    .option('--listen <host:port>', 'where it listens', listenArg, { host: '127.0.0.1', port: 9797 })
    .option('--keystore <file>', 'a validator keystore (Web3 Secret Storage v3); repeat for several', collect, [])
    .option(
      '--signature-scheme <scheme>',
      "the chain's consensus signature scheme: secp256k1, hybrid (secp256k1 ‖ ML-DSA-65) or ml-dsa-65",
      'secp256k1',
    )
    .option(
      '--pq-seed-file <file>',
      "a validator's ML-DSA-65 seed (keys/validator.mldsa.seed): under hybrid one per validator key, paired in order (the --keystore keys, then the --hsm-key ones); under ml-dsa-65 the validator key itself (no --keystore); repeat",
      collect,
      [],
    )
    .option('--password-file <file>', "the keystores' password (else CAIRN_PASSWORD, else a prompt)")
    .requiredOption('--tls-cert <file>', "the signer's certificate chain (PEM)")
    .requiredOption('--tls-key <file>', "the signer's private key (PEM)")
    .option('--client <file>', 'a node certificate (PEM) allowed to connect: pinned; repeat per node', collect, [])
    .option('--client-ca <file>', 'a CA that issued the client certificates (they must be pinned too)', collect, [])
    .requiredOption('--db <dir>', 'the double-sign protection database (keep it with the signer, never share it)')
    .option('--hsm-key <label>', 'a validator key on a PKCS#11 token (its label); repeat for several', collect, [])
    .option('--hsm-module <file>', 'the PKCS#11 library of the token (with --hsm-key)')
    .option('--hsm-token <label>', "the token's label (with --hsm-key)")
    .option('--hsm-pin-file <file>', "a file holding the token's user PIN (with --hsm-key)")
    .option(
      '--tx-keystore <file>',
      'a transaction key (the arbitrage trading or anchoring key; same password): signs transactions only, under the --tx-* policy; repeat for several',
      collect,
      [],
    )
    .option(
      '--tx-allow-to <address[:selectors]>',
      'a recipient transactions may call or pay, optionally only the functions of these 4-byte selectors (ADDRESS:0x12345678,0x…); default any; repeat',
      collect,
      [],
    )
    .option('--tx-allow-create', 'allow contract creations (cairn arb deploy, reserves registry deploy)')
    .option('--tx-max-value <wei>', 'the most wei one transaction may carry')
    .option(
      '--max-connections <n>',
      'open TCP connections on the port in all, counted as they arrive (default 128; 0: no limit)',
      wholeArg,
    )
    .option(
      '--max-connections-per-ip <n>',
      'open TCP connections per client address (an IPv6 /64), counted as they arrive (default 8)',
      wholeArg,
    )
    .option(
      '--handshake-timeout-ms <ms>',
      'a TLS handshake not done this long after the connection arrived is cut (default 5000)',
      wholeArg,
    )
    .option('--max-sessions <n>', 'pinned clients connected at once, in all (default 16)', wholeArg)
    .option('--max-sessions-per-client <n>', 'connections of one pinned certificate at once (default 4)', wholeArg)
    .option(
      '--frame-timeout-ms <ms>',
      'a request begun must arrive whole within this, else its connection is closed (default 5000)',
      wholeArg,
    )
    .option(
      '--max-height-jump <n>',
      "refuse (and never record) a vote or proposal more than this many heights ahead of the key's last (default 100000; 0: no bound)",
      wholeArg,
    )
    .option('--metrics.port <port>', 'serve /metrics and /health on this port')
    .option('--metrics.host <host>', 'address of the metrics listener', '127.0.0.1')
    .option('--log-level <level>', 'trace, debug, info, warn, error', 'info')
    .addHelpText(
      'after',
      `
Example:
  $ cairn signer certs --out ./tls --client node1
  $ cairn signer serve --chain-id 1337 --listen 10.0.0.5:9797 --keystore ./keys/validator.json \\
      --password-file ./pw.txt --tls-cert ./tls/signer.pem --tls-key ./tls/signer-key.pem \\
      --client ./tls/node1.pem --db ./signer-db

The node then signs through it (config): bft.signer = { kind = "remote", url = "tls://10.0.0.5:9797",
ca = "tls/ca.pem", cert = "tls/node1.pem", key = "tls/node1-key.pem" }. See docs/operations/keys.md.
`,
    )
    .action(async (o: ServeOptions) => {
      const [
        { createLogger, createMetricsRegistry, HealthChecks, MetricsServer, StopOnSignals },
        {
          createSignerServerMetrics,
          FileProtectionStore,
          hybridDigestKey,
          mlDsaDigestKey,
          SignerServer,
          SignProtection,
        },
      ] = await Promise.all([import('@cairn/service-kit'), import('@cairn/consensus/privval')])
      const stopper = new StopOnSignals()
      const logger = createLogger({
        level: o.logLevel as 'info',
        format: 'auto',
        onBrokenPipe: stopper.onBrokenPipe,
      }).child({ module: 'signer' })
      if (o.keystore.length === 0 && o.pqSeedFile.length === 0 && o.hsmKey.length === 0 && o.txKeystore.length === 0)
        throw bad(
          'no keystore',
          'give at least one --keystore FILE (or --hsm-key LABEL with --hsm-module, --hsm-token, --hsm-pin-file), or --tx-keystore FILE',
        )
      const scheme = parseSignatureScheme(o.signatureScheme)
      checkPqFlags(o, scheme)
      const txPolicy = txPolicyOf(o)
      if (o.client.length === 0)
        throw bad('no client certificate pinned', 'pin each node allowed to sign: --client FILE.pem')
      const tls = {
        cert: readPem(o.tlsCert, 'TLS certificate'),
        key: readPem(o.tlsKey, 'TLS key'),
        ca: o.clientCa.map((f) => readPem(f, 'client CA')),
        clients: o.client.map((f) => readPem(f, 'client certificate')),
      }
      const keys: (Uint8Array | DigestKey)[] = []
      const hsmKeys: DigestKey[] = []
      let token: { close(): void } | null = null
      if (o.hsmKey.length > 0) {
        if (!o.hsmModule || !o.hsmToken || !o.hsmPinFile)
          throw bad('--hsm-key needs the token', 'give --hsm-module, --hsm-token and --hsm-pin-file')
        const t = await Pkcs11Token.open(
          { module: o.hsmModule, token: o.hsmToken, pin: readPinFile(o.hsmPinFile, '--hsm-pin-file') },
          { logger: logger.child({ module: 'hsm' }) },
        )
        token = t
        try {
          for (const label of o.hsmKey) hsmKeys.push(t.key(label))
        } catch (err) {
          t.close()
          throw err
        }
      }
      const password =
        o.keystore.length + o.txKeystore.length > 0
          ? await readPassword({ passwordFile: o.passwordFile, env: process.env, prompt: 'Password: ' })
          : ''
      const decrypt = (file: string): Promise<Uint8Array> => decryptValidatorKeystore(file, password)
      const validatorKeys: Uint8Array[] = []
      for (const file of o.keystore) validatorKeys.push(await decrypt(file))
      if (scheme === 'secp256k1') keys.push(...validatorKeys, ...hsmKeys)
      else if (scheme === 'hybrid') {
        // Paired in order: the keystores' seeds, then the token keys' (checkPqFlags).
        const secpKeys = [...validatorKeys.map((k) => rawDigestKey(k)), ...hsmKeys]
        for (const [i, secpKey] of secpKeys.entries()) {
          const pqSeed = loadPqSeed(o.pqSeedFile[i] as string)
          keys.push(hybridDigestKey({ secpKey, pqSeed }))
        }
      } else for (const file of o.pqSeedFile) keys.push(mlDsaDigestKey({ pqSeed: loadPqSeed(file) }))
      const txKeys: Uint8Array[] = []
      for (const file of o.txKeystore) txKeys.push(await decrypt(file))
      const registry = createMetricsRegistry({ version: VERSION, commit: buildCommit() })
      const store = new FileProtectionStore({ dir: o.db })
      const server = new SignerServer(
        {
          chainId: o.chainId,
          host: o.listen.host,
          port: o.listen.port,
          tls,
          txPolicy,
          ...(scheme !== 'secp256k1' ? { scheme } : {}),
          limits: {
            maxConnections: o.maxConnections,
            maxConnectionsPerIp: o.maxConnectionsPerIp,
            handshakeTimeoutMs: o.handshakeTimeoutMs,
            maxSessions: o.maxSessions,
            maxSessionsPerClient: o.maxSessionsPerClient,
            frameTimeoutMs: o.frameTimeoutMs,
          },
          ...(o.maxHeightJump !== undefined ? { maxHeightJump: o.maxHeightJump } : {}),
        },
        {
          keys,
          txKeys,
          protection: new SignProtection({ store }),
          logger,
          metrics: createSignerServerMetrics(registry),
        },
      )
      let bound: { host: string; port: number }
      try {
        bound = await server.listen()
      } catch (err) {
        store.close()
        throw err
      }
      const metricsServer =
        o['metrics.port'] === undefined
          ? null
          : new MetricsServer(
              { host: o['metrics.host'], port: Number(o['metrics.port']) },
              { registry, health: new HealthChecks(), logger },
            )
      const metricsUrl = (await metricsServer?.listen()) ?? null
      logger.info(
        {
          listen: `tls://${bound.host}:${bound.port}`,
          chainId: o.chainId.toString(),
          ...(scheme !== 'secp256k1' ? { scheme } : {}),
          keys: server.addresses,
          ...(txKeys.length > 0
            ? {
                txKeys: server.txAddresses,
                txAllowTo:
                  txPolicy.allowTo?.map((a) => (a.selectors ? `${a.to}:${a.selectors.join(',')}` : a.to)) ?? 'any',
                txAllowCreate: txPolicy.allowCreate,
                txMaxValue: txPolicy.maxValue?.toString() ?? 'none',
              }
            : {}),
          clients: o.client.length,
          limits: { ...server.limits, maxHeightJump: server.maxHeightJump },
          db: o.db,
          ...(metricsUrl ? { metrics: `${metricsUrl}/metrics` } : {}),
        },
        'remote signer listening',
      )
      stopper.arm(logger, async () => {
        await server.close()
        await metricsServer?.close()
        store.close()
        token?.close()
      })
    })

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
    .action(
      async (o: {
        chainId: bigint
        operator: string
        signatureScheme: string
        keystore?: string
        pqSeedFile?: string
        passwordFile?: string
        json?: boolean
      }) => {
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
          throw bad(
            '--pq-seed-file is for a hybrid or ml-dsa-65 chain',
            'give --signature-scheme hybrid (or ml-dsa-65)',
          )
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
      },
    )

  registerSignerHsm(signer)

  signer
    .command('fingerprint')
    .description('the SHA-256 fingerprint of a PEM certificate (what `signer serve --client` pins)')
    .argument('<cert>', 'a PEM certificate')
    .action((cert: string) => {
      const x = new X509Certificate(readPem(cert, 'certificate'))
      process.stdout.write(`${x.fingerprint256}  ${x.subject.replace(/\n/g, ', ')}\n`)
    })

  signer
    .command('certs')
    .description('create a CA, the signer certificate and node client certificates with openssl (P-256)')
    .requiredOption('--out <dir>', 'where the files go (ca.pem, signer.pem, NAME.pem, and their -key.pem)')
    .option('--host <name>', "a name or IP the nodes reach the signer by (its certificate's SAN); repeat", collect, [])
    .option('--client <name>', 'a node to make a client certificate for; repeat', collect, [])
    .option('--days <n>', 'validity in days', '825')
    .addHelpText(
      'after',
      '\nExample:\n  $ cairn signer certs --out ./tls --host 10.0.0.5 --client node1 --client node2\n\nKeep ca-key.pem offline: whoever holds it can make certificates (the signer still pins each one).\n',
    )
    .action((o: { out: string; host: string[]; client: string[]; days: string }) => {
      makeCerts(o.out, o.host.length > 0 ? o.host : ['127.0.0.1', 'localhost'], o.client, Number(o.days))
      process.stdout.write(
        `CA:     ${join(o.out, 'ca.pem')}\nSigner: ${join(o.out, 'signer.pem')} (${o.host.join(', ') || '127.0.0.1, localhost'})\n` +
          o.client.map((c) => `Node:   ${join(o.out, `${c}.pem`)}\n`).join(''),
      )
    })
}

/** openssl: a CA, a server certificate for `hosts`, and a client certificate per name. */
export function makeCerts(out: string, hosts: string[], clients: string[], days: number): void {
  const ssl = (...args: string[]) => {
    try {
      execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] })
    } catch (err) {
      throw bad(
        `openssl ${args[0]} failed: ${errorMessage(err)}`,
        'install openssl, or make the certificates as docs/operations/keys.md shows',
      )
    }
  }
  for (const name of ['signer', ...clients]) {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) throw bad(`bad certificate name ${name}`, 'letters, digits, . _ -')
  }
  mkdirSync(out, { recursive: true, mode: 0o700 })
  const p = (f: string) => join(out, f)
  const key = (f: string) => ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', p(f))
  if (!existsSync(p('ca.pem'))) {
    key('ca-key.pem')
    ssl(
      'req',
      '-x509',
      '-new',
      '-key',
      p('ca-key.pem'),
      '-subj',
      '/CN=cairn-signer-ca',
      '-days',
      String(days),
      '-out',
      p('ca.pem'),
    )
  }
  const issue = (name: string, ext: string) => {
    key(`${name}-key.pem`)
    ssl('req', '-new', '-key', p(`${name}-key.pem`), '-subj', `/CN=${name}`, '-out', p(`${name}.csr`))
    writeFileSync(p(`${name}.ext`), ext)
    ssl(
      'x509',
      '-req',
      '-in',
      p(`${name}.csr`),
      '-CA',
      p('ca.pem'),
      '-CAkey',
      p('ca-key.pem'),
      '-CAcreateserial',
      '-days',
      String(days),
      '-extfile',
      p(`${name}.ext`),
      '-out',
      p(`${name}.pem`),
    )
    unlinkSync(p(`${name}.csr`))
    unlinkSync(p(`${name}.ext`))
  }
  const san = hosts.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',')
  issue('signer', `subjectAltName=${san}\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n`)
  for (const c of clients) issue(c, 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n')
}
