import { parseSignatureScheme } from '@cairn/consensus/pq'
import { bad, readPem } from './args.ts'

/** The flags of `cairn signer serve`, as commander parses them. */
export interface ServeOptions {
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

export type SignatureScheme = 'secp256k1' | 'hybrid' | 'ml-dsa-65'

/** What transactions the signer's transaction keys may sign (`--tx-*`). */
export interface TxPolicy {
  allowTo: { to: string; selectors: string[] | null }[] | null
  allowCreate: boolean
  maxValue: bigint | null
}

/** The TLS material of `serve`: its certificate and key, and the pinned clients and their CAs. */
export interface ServeTls {
  cert: string
  key: string
  ca: string[]
  clients: string[]
}

/**
 * `serve`'s flags checked against one another before anything is opened: some key, a scheme and
 * its seeds, the transaction policy, a pinned client; then the TLS files read.
 */
export function checkServeOptions(o: ServeOptions): { scheme: SignatureScheme; txPolicy: TxPolicy; tls: ServeTls } {
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
  return { scheme, txPolicy, tls }
}

/** The transaction policy of `serve`'s --tx-* flags, checked. */
function txPolicyOf(o: ServeOptions): TxPolicy {
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
function checkPqFlags(o: ServeOptions, scheme: SignatureScheme): void {
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
