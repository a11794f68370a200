import type { DigestKey } from '@cairn/consensus'
import { rawDigestKey } from '@cairn/consensus/pq'
import { loadPqSeed } from '@cairn/consensus/validator-keys'
import { Pkcs11Token, readPinFile } from '@cairn/keys'
import type { Logger } from '@cairn/utils'
import type { Command } from 'commander'
import { readPassword } from '../../config/password.ts'
import { buildCommit, VERSION } from '../../version.ts'
import { bad, chainIdArg, collect, decryptValidatorKeystore, listenArg, wholeArg } from './args.ts'
import { checkServeOptions, type ServeOptions, type SignatureScheme } from './serve-options.ts'

type Privval = typeof import('@cairn/consensus/privval')

/** Registers `cairn signer serve`: its flags, and {@link serve} as its action. */
export function registerServe(signer: Command): void {
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
    .action(serve)
}

/**
 * `cairn signer serve`: checks the flags, opens the keys (token, keystores, seeds), starts the
 * signer server and its metrics listener, and stops them on a signal.
 */
async function serve(o: ServeOptions): Promise<void> {
  const [{ createLogger, createMetricsRegistry, HealthChecks, MetricsServer, StopOnSignals }, privval] =
    await Promise.all([import('@cairn/service-kit'), import('@cairn/consensus/privval')])
  const stopper = new StopOnSignals()
  const logger = createLogger({
    level: o.logLevel as 'info',
    format: 'auto',
    onBrokenPipe: stopper.onBrokenPipe,
  }).child({ module: 'signer' })
  const { scheme, txPolicy, tls } = checkServeOptions(o)
  const hsm = await openHsmKeys(o, logger)
  const { keys, txKeys } = await loadServeKeys(o, scheme, hsm.keys, privval)
  const registry = createMetricsRegistry({ version: VERSION, commit: buildCommit() })
  const store = new privval.FileProtectionStore({ dir: o.db })
  const server = new privval.SignerServer(
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
      protection: new privval.SignProtection({ store }),
      logger,
      metrics: privval.createSignerServerMetrics(registry),
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
            txAllowTo: txPolicy.allowTo?.map((a) => (a.selectors ? `${a.to}:${a.selectors.join(',')}` : a.to)) ?? 'any',
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
    hsm.token?.close()
  })
}

/** The validator keys on a PKCS#11 token (`--hsm-key`), and the token (closed at stop); none without. */
async function openHsmKeys(
  o: ServeOptions,
  logger: Logger,
): Promise<{ keys: DigestKey[]; token: { close(): void } | null }> {
  if (o.hsmKey.length === 0) return { keys: [], token: null }
  if (!o.hsmModule || !o.hsmToken || !o.hsmPinFile)
    throw bad('--hsm-key needs the token', 'give --hsm-module, --hsm-token and --hsm-pin-file')
  const token = await Pkcs11Token.open(
    { module: o.hsmModule, token: o.hsmToken, pin: readPinFile(o.hsmPinFile, '--hsm-pin-file') },
    { logger: logger.child({ module: 'hsm' }) },
  )
  const keys: DigestKey[] = []
  try {
    for (const label of o.hsmKey) keys.push(token.key(label))
  } catch (err) {
    token.close()
    throw err
  }
  return { keys, token }
}

/**
 * The keys the signer serves, by scheme (the keystores and the token's keys; under hybrid each
 * paired with its seed, in order; under ml-dsa-65 the seeds), and the transaction keys.
 */
async function loadServeKeys(
  o: ServeOptions,
  scheme: SignatureScheme,
  hsmKeys: DigestKey[],
  privval: Pick<Privval, 'hybridDigestKey' | 'mlDsaDigestKey'>,
): Promise<{ keys: (Uint8Array | DigestKey)[]; txKeys: Uint8Array[] }> {
  const password =
    o.keystore.length + o.txKeystore.length > 0
      ? await readPassword({ passwordFile: o.passwordFile, env: process.env, prompt: 'Password: ' })
      : ''
  const decrypt = (file: string): Promise<Uint8Array> => decryptValidatorKeystore(file, password)
  const keys: (Uint8Array | DigestKey)[] = []
  const validatorKeys: Uint8Array[] = []
  for (const file of o.keystore) validatorKeys.push(await decrypt(file))
  if (scheme === 'secp256k1') keys.push(...validatorKeys, ...hsmKeys)
  else if (scheme === 'hybrid') {
    // Paired in order: the keystores' seeds, then the token keys' (checkPqFlags).
    const secpKeys = [...validatorKeys.map((k) => rawDigestKey(k)), ...hsmKeys]
    for (const [i, secpKey] of secpKeys.entries()) {
      const pqSeed = loadPqSeed(o.pqSeedFile[i] as string)
      keys.push(privval.hybridDigestKey({ secpKey, pqSeed }))
    }
  } else for (const file of o.pqSeedFile) keys.push(privval.mlDsaDigestKey({ pqSeed: loadPqSeed(file) }))
  const txKeys: Uint8Array[] = []
  for (const file of o.txKeystore) txKeys.push(await decrypt(file))
  return { keys, txKeys }
}
