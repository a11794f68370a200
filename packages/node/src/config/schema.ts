import { isIP } from 'node:net'
import { isRpcNamespace, RPC_NAMESPACES } from '@cairn/rpc/namespaces'
import { z } from 'zod'
import { parseCron } from '../backup/cron.ts'

/** Why a cron expression is refused, or undefined when it parses. */
function cronError(expr: string): string | undefined {
  try {
    parseCron(expr)
    return undefined
  } catch (err) {
    return (err as Error).message
  }
}

/** A list from an array or a comma-separated string (env, flags), trimmed, empty items dropped. */
function commaList(item: z.ZodString) {
  return z.preprocess(
    (v) =>
      typeof v === 'string'
        ? v
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : v,
    z.array(item),
  )
}
const originList = commaList(
  z.string().regex(/^(\*|https?:\/\/[^/\s]+)$/, 'an origin like https://app.example.com, or *'),
)
const proxyList = commaList(z.string().regex(/^[0-9A-Fa-f.:]+(\/\d{1,3})?$/, 'an IP address or CIDR like 10.0.0.0/8'))
/** An IP address or CIDR whose prefix fits its family (127.0.0.0/8, ::1/128, 10.0.0.7). */
function isCidr(v: string): boolean {
  const [address = '', bits, ...rest] = v.split('/')
  const family = isIP(address)
  if (family === 0 || rest.length > 0) return false
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128))
}
const cidrList = commaList(z.string().refine(isCidr, 'an IP address or CIDR like 127.0.0.0/8'))
const hostList = commaList(z.string().regex(/^(\*|[A-Za-z0-9.-]+)$/, 'a host name like rpc.example.com, or *'))

/**
 * The node's configuration. Every key here can come from (lowest to highest precedence) the
 * defaults, a config file (`--config`, TOML or JSON), the environment (`CAIRN_HTTP_PORT` for
 * `http.port`) and command-line flags (`--http.port`).
 */
export const nodeConfigSchema = z
  .object({
    /** dev: anything goes; test: like prod without the refusals; prod: refuses insecure settings. */
    profile: z.enum(['dev', 'test', 'prod']).optional(),
    dev: z.boolean().default(false),
    ephemeral: z.boolean().default(false),
    datadir: z.string().min(1).optional(),
    genesis: z.string().min(1).optional(),
    chainId: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
    blockTime: z.coerce.number().min(0).max(3600).default(0),
    /**
     * Automine (`blockTime` 0) paces sealing under load into bigger blocks instead of sealing at
     * once on each arrival (Anvil's automine, the default): for throughput (the transfer bench).
     */
    automineBatch: z.boolean().default(false),
    /**
     * The consensus engine (built once from this): `dev`, a single trusted sealer; `bft`, Tendermint
     * among the validators of the genesis's `config.cairn.bft` (docs/consensus/bft.md). Unset: from
     * the genesis (`bft` when it has `config.cairn.bft`, else `dev`); set, it must agree with it.
     * `pow`: proof of work, from the genesis's `config.cairn.pow` (docs/consensus/pow.md).
     * `ghostdag`: a proof-of-work block DAG, from `config.cairn.ghostdag` (docs/consensus/ghostdag.md).
     */
    engine: z.enum(['dev', 'bft', 'pow', 'ghostdag']).optional(),
    /** Produce blocks (false: the engine seals nothing; the head moves only by import, as Anvil's --no-mining). */
    mining: z.boolean().default(true),
    /**
     * Reference mode (`--reference`): every speed shim off — the chain's (`ChainOptions.reference`:
     * transfer fast path, batched state, jump cache, builder shortcuts, direct decoder, synchronous
     * trie reads) and the RPC's (fast lane, call cache, view interpreter, pooled call VMs). Same
     * answers, slower: the answer to "is it the shim?".
     */
    reference: z.boolean().default(false),
    http: z
      .object({
        addr: z.string().min(1).default('127.0.0.1'),
        port: z.coerce.number().int().min(0).max(65535).default(8545),
        /** Origins browsers may call from (geth's --http.corsdomain); none by default, `*` = any. Comma list in env. */
        cors: originList.default([]),
        /** Host header names accepted (geth's --http.vhosts); IP literals always pass; `*` = any. */
        vhosts: hostList.default(['localhost']),
        /** PEM certificate chain file: with tlsKey, the port serves HTTPS and WSS. */
        tlsCert: z.string().min(1).optional(),
        /** PEM private key file of tlsCert (a secret: use CAIRN_HTTP_TLS_KEY or the config file). */
        tlsKey: z.string().min(1).optional(),
        /**
         * Open connections (HTTP keep-alive and WebSocket) one client IP (an IPv6 /64) may hold,
         * counted as each arrives: one past it is closed at once; 0 = no cap of its own (a quarter
         * of maxConnections still applies).
         */
        maxConnectionsPerIp: z.coerce.number().int().min(0).default(512),
        /**
         * Open connections on the RPC port in all: past it a connection is closed as it arrives.
         * `auto`: half the process's open-file limit (RLIMIT_NOFILE), leaving the rest to the
         * database, the peers and the logs; 0 = no limit. One IP holds at most a quarter of it; the
         * last quarter is kept for addresses holding fewer than 8 connections.
         */
        maxConnections: z.union([z.literal('auto'), z.coerce.number().int().min(0)]).default('auto'),
        /** A connection that sends nothing for this long (ms) is closed (its first byte only; 0 = never). */
        firstByteTimeoutMs: z.coerce.number().int().min(0).max(600_000).default(5_000),
        /** Longest a request (headers and body) may take to arrive, in ms; then 408 and the connection closes. */
        requestTimeoutMs: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
        /** Answer 503 + Retry-After (except /health) while the event loop lags more than this (ms); 0 = off. */
        shedLagMs: z.coerce.number().int().min(0).default(0),
        /** Proxies (IPs or CIDRs) whose X-Forwarded-For names the client for limits and logs; none by default. */
        trustProxy: proxyList.default([]),
        /**
         * Largest request in bytes: an HTTP body (413 past it) and a WebSocket message (the socket
         * is closed, 1009) alike, so neither transport parses more JSON than the other (geth allows
         * 32 MiB on WebSocket). Default 5 MiB, geth's HTTP limit; Anvil's --no-request-size-limit: 1 GiB.
         */
        maxRequestBytes: z.coerce
          .number()
          .int()
          .min(64 * 1024)
          .max(2 ** 30)
          .default(5 * 1024 * 1024),
      })
      .strict()
      .superRefine((h, ctx) => {
        if ((h.tlsCert === undefined) === (h.tlsKey === undefined)) return
        const path = [h.tlsCert === undefined ? 'tlsKey' : 'tlsCert']
        ctx.addIssue({ code: 'custom', path, message: 'http.tlsCert and http.tlsKey go together (both, or neither)' })
      })
      .default({
        addr: '127.0.0.1',
        port: 8545,
        cors: [],
        vhosts: ['localhost'],
        maxConnectionsPerIp: 512,
        maxConnections: 'auto',
        firstByteTimeoutMs: 5_000,
        requestTimeoutMs: 30_000,
        shedLagMs: 0,
        trustProxy: [],
        maxRequestBytes: 5 * 1024 * 1024,
      }),
    log: z
      .object({
        level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
        /** Per-module levels (`{ rpc = "debug", txpool = "warn" }`; JSON in env); others use `level`. */
        modules: z
          .preprocess(
            (v) => (typeof v === 'string' ? parseJsonOr(v) : v),
            z.record(
              z.string().regex(/^[a-z][a-z0-9-]*$/, 'a module name like rpc, chain, txpool'),
              z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
            ),
          )
          .optional(),
        format: z.enum(['json', 'pretty', 'auto']).default('auto'),
        /** Also write JSON lines to this file (stdout keeps its format); rotated as below. */
        file: z.string().min(1).optional(),
        /** Rotate the file when it reaches this size: a number of MB or `500k`, `100m`, `1g`. */
        rotateSize: z
          .union([z.number().positive(), z.string().regex(/^\d+(\.\d+)?[kmg]?$/i, 'a size like 500k, 100m or 1g')])
          .optional(),
        /** Rotate the file every `daily`, `hourly` or N milliseconds. */
        rotateInterval: z.union([z.enum(['daily', 'hourly']), z.coerce.number().int().min(1000)]).optional(),
        /** Rotated files kept besides the active one (default 7); older ones are deleted. */
        rotateKeep: z.coerce.number().int().min(0).max(1000).optional(),
      })
      .strict()
      .default({ level: 'info', format: 'auto' }),
    metrics: z
      .object({
        /** A separate listener serving /metrics and /health (besides /metrics on the RPC port); unset = none. */
        port: z.coerce.number().int().min(0).max(65535).optional(),
        /** Address of that listener (loopback by default: metrics are not for the public). */
        host: z.string().min(1).default('127.0.0.1'),
      })
      .strict()
      .default({ host: '127.0.0.1' }),
    cache: z
      .object({
        /**
         * MiB of state-trie nodes kept in memory in front of LevelDB (`--cache.state`; geth's
         * --cache.trie): the encoded nodes of ~200,000 accounts' trie fit 64. Read back from the
         * database past it. 0: none. Unused with --ephemeral.
         */
        state: z.coerce.number().int().min(0).max(65_536).default(64),
      })
      .strict()
      .default({ state: 64 }),
    tracing: z
      .object({
        /** Export OpenTelemetry spans (RPC calls, block import and execution, DB batches) over OTLP/HTTP. */
        enabled: z.boolean().default(false),
        /** The collector's OTLP/HTTP traces URL. */
        otlpEndpoint: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:4318/v1/traces'),
        /** Share of new traces recorded, 0..1 (a child follows its parent's decision). */
        sampleRatio: z.coerce.number().min(0).max(1).default(1),
      })
      .strict()
      .default({ enabled: false, otlpEndpoint: 'http://127.0.0.1:4318/v1/traces', sampleRatio: 1 }),
    rpc: z
      .object({
        /**
         * Accept pre-EIP-155 transactions (no chain id: replayable on every chain) over RPC, as
         * geth's --rpc.allow-unprotected-txs. Unset: allowed in the dev profile only.
         */
        allowUnprotectedTxs: z.boolean().optional(),
        /**
         * Serve the `testing_` namespace (geth's testing_buildBlockV1: builds a block without
         * importing it; admin role). Unset: served in the dev and test profiles, not in prod.
         */
        testing: z.boolean().optional(),
        /**
         * The namespaces served over HTTP and WebSocket, as geth's --http.api (`--rpc.api
         * eth,net,web3,txpool`; an array in a file). A method outside them answers -32601 "the
         * method … does not exist/is not available" whatever the caller's role. Unset: every
         * namespace on a dev chain (`--dev`, as Anvil), else `eth,net,web3,cairn` (effectiveNamespaces).
         */
        api: commaList(
          z.string().refine(isRpcNamespace, {
            error: (iss) => `unknown namespace "${String(iss.input)}" (known: ${RPC_NAMESPACES.join(', ')})`,
          }),
        )
          .refine((list) => list.includes('eth'), {
            error: 'must include eth (the chain itself; /ready probes eth_blockNumber)',
          })
          .optional(),
        /**
         * What web3_clientVersion (and anvil_nodeInfo/hardhat_metadata) answer instead of
         * `Cairn/v…`: Hardhat's network helpers accept only a version starting with `anvil`,
         * `hardhat` or `zksync` (`--rpc.client-version anvil/v1.7.1` runs them against Cairn).
         */
        clientVersion: z.string().min(1).max(200).optional(),
        /**
         * Time limit in ms of one eth_call, eth_estimateGas or eth_simulateV1 (geth's
         * --rpc.evmtimeout; default 5000). Wall clock: a loaded machine needs more.
         */
        evmTimeoutMs: z.coerce.number().int().min(1).max(600_000).optional(),
        /**
         * Worker threads answering HTTP reads (eth_getBalance, eth_call, blocks, receipts, logs,
         * proofs…) beside the main thread, each with the chain's LevelDB open (`--rpc.threads`;
         * docs/api/json-rpc.md). `auto` (the default): one per core but one, at least 1, at most 8,
         * where threads listen on the port themselves (Node ≥ 22.12 on Linux), else none; 0: every
         * request on the main thread. None with --ephemeral (an in-memory store cannot be shared).
         */
        threads: z.union([z.literal('auto'), z.coerce.number().int().min(0).max(64)]).default('auto'),
        /**
         * Read threads listen on the RPC port themselves (SO_REUSEPORT: the kernel spreads
         * connections over the main thread and the threads) where Node allows it (≥ 22.12 on
         * Linux); false, or an older Node: the main thread takes every request and hands reads over.
         */
        threadListeners: z.boolean().default(true),
      })
      .strict()
      .default({ threads: 'auto', threadListeners: true }),
    txpool: z
      .object({
        minTip: z.coerce.bigint().nonnegative().optional(),
        priceBump: z.coerce.number().int().min(1).max(1000).default(10),
        globalSlots: z.coerce.number().int().min(1).default(5120),
        globalQueue: z.coerce.number().int().min(0).default(1024),
        /** Executable transactions an account keeps when the pool is full. */
        accountSlots: z.coerce.number().int().min(1).default(16),
        /** Most nonce-gapped transactions per account. */
        accountQueue: z.coerce.number().int().min(0).default(64),
        /** Seconds an idle account's queued transactions are kept (3 h). */
        lifetime: z.coerce.number().int().min(1).default(10_800),
        /** Keep locally submitted transactions across restarts in <datadir>/txpool.journal. */
        journal: z.boolean().default(true),
        /** Seconds between journal rewrites while running (on shutdown too); 0 = only on shutdown. */
        rejournal: z.coerce.number().int().min(0).default(3600),
      })
      .strict()
      .default({
        priceBump: 10,
        globalSlots: 5120,
        globalQueue: 1024,
        accountSlots: 16,
        accountQueue: 64,
        lifetime: 10_800,
        journal: true,
        rejournal: 3600,
      }),
    backup: z
      .object({
        /** Directory of scheduled backups (required when interval > 0). */
        dir: z.string().min(1).optional(),
        /** Seconds between scheduled backups; 0 = no scheduled backups. */
        interval: z.coerce.number().int().min(0).default(0),
        /** A 5-field cron expression in UTC (e.g. "30 3 * * *"); wins over interval. */
        cron: z
          .string()
          .min(1)
          .refine((c) => cronError(c) === undefined, { error: (iss) => cronError(String(iss.input)) ?? 'bad cron' })
          .optional(),
        /** Backups kept, newest first. */
        keep: z.coerce.number().int().min(1).default(7),
        /** Backups older than this many hours are removed (0 = no age limit; the newest is kept). */
        maxAgeHours: z.coerce.number().min(0).default(0),
      })
      .strict()
      .refine((b) => (b.interval === 0 && b.cron === undefined) || b.dir !== undefined, {
        message: 'backup.dir is required when backup.interval > 0 or backup.cron is set',
      })
      .default({ interval: 0, keep: 7, maxAgeHours: 0 }),
    /**
     * Proof-of-work mining (`engine = "pow"`): `enabled` (`--mine`) mines on `threads` worker
     * threads (`--miner.threads`) for `coinbase` (`--miner.coinbase`, needed to mine or to hand out
     * work through eth_getWork); `recommitMs`, the least time between two templates rebuilt for new
     * transactions; `extraData` (hex, ≤ 32 bytes) of the blocks sealed here.
     */
    miner: z
      .object({
        enabled: z.boolean().default(false),
        threads: z.coerce.number().int().min(1).max(256).default(1),
        coinbase: z
          .string()
          .regex(/^0x[0-9a-fA-F]{40}$/, 'a 20-byte hex address')
          .optional(),
        recommitMs: z.coerce.number().int().min(100).max(600_000).default(2000),
        extraData: z
          .string()
          .regex(/^0x([0-9a-fA-F]{2}){0,32}$/, 'hex bytes, at most 32')
          .optional(),
      })
      .strict()
      .default({ enabled: false, threads: 1, recommitMs: 2000 }),
    /**
     * Proof-of-work fork choice (`engine = "pow"`): a heavier branch that would revert more than
     * `maxReorgDepth` canonical blocks is refused (alert: cairn_pow_reorgs_refused_total) until an
     * operator accepts it (`cairn chain accept-branch <hash>`); a header more than
     * `maxFutureSeconds` ahead of the clock waits.
     */
    pow: z
      .object({
        maxReorgDepth: z.coerce.number().int().min(1).max(1_000_000).default(10),
        maxFutureSeconds: z.coerce.number().int().min(1).max(7200).default(15),
      })
      .strict()
      .default({ maxReorgDepth: 10, maxFutureSeconds: 15 }),
    keys: z
      .object({
        /** Create (and require) a validator key in the datadir. */
        validator: z.boolean().default(false),
      })
      .strict()
      .default({ validator: false }),
    bft: z
      .object({
        /**
         * Where a validator's votes and proposals are signed (docs/operations/keys.md): `local`, with
         * the key in DATADIR/keys/validator.key and its signer state beside it; `remote`, by a
         * `cairn signer serve` process over mutual TLS (`url` tls://HOST:PORT; `ca` the CA of the
         * signer's certificate; `cert` and `key` this node's client certificate, pinned by the
         * signer; `address` the validator's key when the signer holds several; `nextAddress` the key
         * it rotates to (`cairn staking rotate-key`), which the signer must hold too: each height is
         * signed with the one in its set; `timeoutMs` the longest wait for a signature, after which
         * the step goes unvoted); `hsm`, by a key on a PKCS#11 token in this process (`module` the
         * PKCS#11 library, `token` the token's label, `pinFile` a file holding the user PIN, `key`
         * the key's label, `nextKey` the label of the key it rotates to; the signer state stays in
         * DATADIR/keys). JSON in env (CAIRN_BFT_SIGNER).
         */
        signer: z
          .preprocess(
            (v) => (typeof v === 'string' ? parseJsonOr(v) : v),
            z.discriminatedUnion('kind', [
              z.object({ kind: z.literal('local') }).strict(),
              z
                .object({
                  kind: z.literal('remote'),
                  url: z.string().regex(/^tls:\/\/[^/\s]+:\d{1,5}$/, 'tls://HOST:PORT'),
                  ca: z.string().min(1),
                  cert: z.string().min(1),
                  key: z.string().min(1),
                  address: z
                    .string()
                    .regex(/^0x[0-9a-fA-F]{40}$/, 'an address')
                    .optional(),
                  nextAddress: z
                    .string()
                    .regex(/^0x[0-9a-fA-F]{40}$/, 'an address')
                    .optional(),
                  timeoutMs: z.coerce.number().int().min(50).max(60_000).default(1000),
                })
                .strict(),
              z
                .object({
                  kind: z.literal('hsm'),
                  ...hsmKeyFields("the validator key's label on the token is required"),
                  nextKey: z.string().min(1, "nextKey: the next key's label").optional(),
                })
                .strict(),
            ]),
          )
          .default({ kind: 'local' }),
      })
      .strict()
      .default({ signer: { kind: 'local' } }),
    auth: z
      .object({
        /** Require credentials for methods above `public` (also on when keys or a JWT secret are set). */
        enabled: z.boolean().default(false),
        /** API keys: `{ name, keyHash, role }`; keyHash is sha256(key) as hex, never the key. JSON in env. */
        apiKeys: z
          .preprocess(
            (v) => (typeof v === 'string' ? parseJsonOr(v) : v),
            z.array(
              z
                .object({
                  name: z.string().min(1).max(64),
                  keyHash: z
                    .string()
                    .regex(/^[0-9a-fA-F]{64}$/, 'a sha256 hex digest (64 hex characters) of the key, never the key'),
                  role: z.enum(['public', 'user', 'operator', 'admin']),
                })
                .strict(),
            ),
          )
          .default([]),
        /** HS256 secret for JWTs, 32 bytes as hex (geth's jwtsecret); use CAIRN_AUTH_JWT_SECRET_FILE. */
        jwtSecret: z
          .string()
          .regex(/^(0x)?[0-9a-fA-F]{64}$/, '32 bytes as hex (64 hex characters, optional 0x)')
          .optional(),
        /**
         * Role of an HS256 JWT without a `role` claim (geth's engine-API tokens carry only `iat`).
         * Unset: such a token is refused (401 naming the missing claim on any method above `public`).
         */
        jwtRole: z.enum(['public', 'user', 'operator', 'admin']).optional(),
        /** JWKS of an OAuth2/OIDC provider: RS256/ES256 JWTs signed by its keys are accepted. */
        jwksUrl: z.url({ protocol: /^https?$/ }).optional(),
        /** Required `iss` of JWKS tokens. */
        jwtIssuer: z.string().min(1).optional(),
        /** Required `aud` of JWKS tokens. */
        jwtAudience: z.string().min(1).optional(),
        /** Claim holding the role of a JWKS token (dotted path, e.g. `realm_access.roles`; string or array). */
        jwtRoleClaim: z.string().min(1).default('role'),
        /** Claim value → role for JWKS tokens (`{ "node-admins": "admin" }`); a role name maps to itself. JSON in env. */
        jwtRoleMap: z
          .preprocess(
            (v) => (typeof v === 'string' ? parseJsonOr(v) : v),
            z.record(z.string(), z.enum(['public', 'user', 'operator', 'admin'])),
          )
          .default({}),
      })
      .strict()
      .default({ enabled: false, apiKeys: [], jwtRoleClaim: 'role', jwtRoleMap: {} }),
    rateLimit: z
      .object({
        enabled: z.boolean().default(false),
        /** Sliding window length in seconds. */
        windowSeconds: z.coerce.number().int().min(1).max(3600).default(60),
        /** Weight an anonymous IP may spend per window (eth_call 5, eth_getLogs 10, debug_* 20, else 1). */
        perIp: z.coerce.number().int().min(1).default(600),
        /** Weight one API key or JWT subject may spend per window. */
        perKey: z.coerce.number().int().min(1).default(6000),
        /** Where windows live: `memory` (this process) or `redis` (shared by every instance using redisUrl). */
        store: z.enum(['memory', 'redis']).default('memory'),
        /** redis://[:password@]host:port/db of the shared store (rateLimit.store = "redis"). */
        redisUrl: z.url({ protocol: /^rediss?$/ }).optional(),
        /** When the Redis store fails: `open` lets requests through, `closed` refuses them (503). */
        onStoreError: z.enum(['open', 'closed']).default('open'),
      })
      .strict()
      .refine((r) => r.store !== 'redis' || r.redisUrl !== undefined, {
        path: ['store'],
        message: 'rateLimit.redisUrl is required when rateLimit.store = "redis"',
      })
      .default({
        enabled: false,
        windowSeconds: 60,
        perIp: 600,
        perKey: 6000,
        store: 'memory',
        onStoreError: 'open',
      }),
    dev_accounts: z
      .object({
        mnemonic: z.string().default('test test test test test test test test test test test junk'),
        count: z.coerce.number().int().min(0).max(1000).default(10),
        balance: z.coerce
          .bigint()
          .nonnegative()
          .default(10_000n * 10n ** 18n),
        /**
         * The BIP-32 path the accounts are derived under, account i at `PATH/i` (Anvil's
         * `--derivation-path`; a trailing slash is allowed, as Anvil writes it).
         */
        derivationPath: z
          .string()
          .regex(/^m(\/\d+'?)*\/?$/, "a BIP-32 path like m/44'/60'/0'/0/")
          .transform((p) => p.replace(/\/$/, ''))
          .default("m/44'/60'/0'/0"),
      })
      .strict()
      .default({
        mnemonic: 'test test test test test test test test test test test junk',
        count: 10,
        balance: 10_000n * 10n ** 18n,
        derivationPath: "m/44'/60'/0'/0",
      }),
    /**
     * A new dev chain's own rules and first block, as Anvil's flags set them (`--hardfork`,
     * `--gas-limit`, `--base-fee`, `--timestamp`, `--disable-block-gas-limit`); unset: the dev
     * genesis's (osaka, 30,000,000 gas, 1 gwei, timestamp 0). They make another genesis: a datadir
     * created with other values is refused (use a new one, or --ephemeral).
     */
    devChain: z
      .object({
        /** The fork the chain runs (Anvil's `--hardfork`; `latest` is the newest supported). */
        hardfork: z.enum(['cancun', 'prague', 'osaka', 'latest']).optional(),
        /** The block gas limit (Anvil's `--gas-limit`). */
        gasLimit: z.coerce
          .bigint()
          .min(5000n)
          .max(2n ** 63n - 1n)
          .optional(),
        /** The first block's base fee in wei (Anvil's `--base-fee`); later ones follow EIP-1559. */
        baseFee: z.coerce
          .bigint()
          .nonnegative()
          .max(2n ** 64n - 1n)
          .optional(),
        /**
         * Anvil's `--gas-price`: its legacy gas price, which Anvil 1.7.1 uses only under pre-London
         * rules (`eth_gasPrice`, and the price of a transaction sent without one); under London and
         * later it answers the base fee and tip whatever the flag. Cairn's rules are all London and
         * later (cancun, prague, osaka): accepted for Anvil's command lines, with no effect, as Anvil's.
         */
        gasPrice: z.coerce
          .bigint()
          .nonnegative()
          .max(2n ** 128n - 1n)
          .optional(),
        /** The genesis timestamp in seconds (Anvil's `--timestamp`). */
        timestamp: z.coerce
          .bigint()
          .nonnegative()
          .max(2n ** 63n - 1n)
          .optional(),
        /** A block gas limit too high to matter (2^63-1; Anvil's `--disable-block-gas-limit`). */
        disableBlockGasLimit: z.boolean().default(false),
        /** The contract code size limit in bytes, initcode twice it (Anvil's `--code-size-limit`); unset: the fork's. */
        codeSizeLimit: z.coerce
          .bigint()
          .min(1n)
          .max(2n ** 32n)
          .optional(),
        /** No contract code size limit (Anvil's `--disable-code-size-limit`). */
        disableCodeSizeLimit: z.boolean().default(false),
        /** Every sender impersonated from the start (Anvil's `--auto-impersonate`; anvil_autoImpersonateAccount). */
        autoImpersonate: z.boolean().default(false),
        /**
         * The CREATE2 deployer predeployed at 0x4e59…956C (false: Anvil's
         * `--disable-default-create2-deployer`; another genesis, so a new datadir).
         */
        create2Deployer: z.boolean().default(true),
        /**
         * The order transactions are sealed in (Anvil's `--order`): `fees`, highest tip first and
         * each sender's in nonce order (the pool's only order; Anvil's default). `fifo` is refused.
         */
        order: z
          .literal('fees', { message: "only 'fees' (the pool orders by tip; fifo is not supported)" })
          .default('fees'),
      })
      .strict()
      .default({
        disableBlockGasLimit: false,
        disableCodeSizeLimit: false,
        autoImpersonate: false,
        create2Deployer: true,
        order: 'fees',
      }),
    /**
     * Fork mode (`--fork-url`, dev chains): the chain starts at a remote node's block and reads its
     * state lazily from it over JSON-RPC (eth_getProof, eth_getCode, eth_getBlockByNumber), as
     * Anvil's and Hardhat's fork mode.
     */
    fork: z
      .object({
        /** The remote's JSON-RPC URL (http or https). */
        url: z.url({ protocol: /^https?$/ }).optional(),
        /** The block to fork from; default the remote's latest. */
        blockNumber: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
        /** The local chain id; default the remote's. */
        chainId: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
        /** Requests started per second toward the remote; 0 for no limit. */
        requestsPerSecond: z.coerce.number().int().min(0).max(100_000).default(0),
        /** Attempts per request (network errors, HTTP 429/5xx, rate-limit answers are retried). */
        retries: z.coerce.number().int().min(1).max(20).default(5),
        /** Longest wait for one answer of the remote, ms. */
        timeoutMs: z.coerce.number().int().min(100).max(600_000).default(45_000),
        /** First wait before retrying a failed request, ms, doubled at each attempt (Anvil's `--fork-retry-backoff`). */
        retryBackoffMs: z.coerce.number().int().min(0).max(60_000).default(200),
        /**
         * Anvil's `--no-storage-caching` (no cache of the remote's state outside the run): Cairn
         * keeps what it fetched only with the chain's state (memory with --ephemeral, the datadir
         * otherwise), so this changes nothing; accepted for Anvil's command lines.
         */
        noStorageCaching: z.boolean().default(false),
      })
      .strict()
      .default({ requestsPerSecond: 0, retries: 5, timeoutMs: 45_000, retryBackoffMs: 200, noStorageCaching: false }),
    /** Anvil's `--steps-tracing`: accepted; debug_trace* gives the steps whenever asked (nothing to turn on). */
    stepsTracing: z.boolean().default(false),
    /** A read replica: produce nothing, sync from peers, serve RPC; transactions are relayed to the producer. */
    follow: z.boolean().default(false),
    /**
     * Scheduled upgrades (governance's `scheduleUpgrade`) this node goes through with the rules it
     * has instead of stopping at their height (Cosmos's `--unsafe-skip-upgrades`): for a rehearsal,
     * or a network whose validators agreed to skip one. Names, comma list in env.
     */
    unsafeSkipUpgrades: commaList(z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'an upgrade name')).default([]),
    /**
     * Test-only faults for the network testbed (test/chaos, docs/consensus/testing.md): the loader
     * refuses any of these keys unless the environment has `CAIRN_TESTBED=1`, and the prod profile
     * refuses them always. `clockOffsetMs` shifts the BFT engine's clock; `byzantine` makes a
     * validator misbehave on the consensus topic (packages/consensus/src/bft/byzantine.ts).
     */
    testbed: z
      .object({
        clockOffsetMs: z.coerce.number().int().min(-3_600_000).max(3_600_000).default(0),
        byzantine: z.enum(['none', 'double-propose', 'double-vote', 'ignore-lock', 'silent']).default('none'),
      })
      .strict()
      .default({ clockOffsetMs: 0, byzantine: 'none' }),
    p2p: z
      .object({
        /** The peer-to-peer network (unset: on, except with --dev where --p2p.enabled or --follow turns it on). */
        enabled: z.boolean().optional(),
        addr: z.string().min(1).default('0.0.0.0'),
        port: z.coerce.number().int().min(0).max(65535).default(30303),
        /**
         * Multiaddrs `/ip4/…/tcp/…/p2p/<peer id>` or `/dns4/<name>/tcp/…/p2p/<peer id>` (the name
         * resolved at every dial) dialled at start and kept connected. Comma list in env.
         */
        bootnodes: commaList(
          z.string().regex(/^\/.+\/p2p\/[A-Za-z0-9]+$/, 'a multiaddr ending in /p2p/<peer id>'),
        ).default([]),
        /** Addresses announced to peers instead of the listen address (NAT, containers). */
        announce: commaList(z.string().regex(/^\//, 'a multiaddr like /ip4/203.0.113.7/tcp/30303')).default([]),
        maxPeers: z.coerce.number().int().min(1).max(10_000).default(50),
        /** Most inbound connections from one IP at a time (counting those in their handshake). */
        maxPeersPerIp: z.coerce.number().int().min(1).max(10_000).default(8),
        /** Most new inbound connections from one IP within any second. */
        inboundRatePerIp: z.coerce.number().int().min(1).max(10_000).default(5),
        /** Most inbound connections from one IP still in their handshake (libp2p's 64 in all are shared). */
        maxPendingPerIp: z.coerce.number().int().min(1).max(64).default(2),
        /** An inbound connection whose handshake has not finished by then is dropped (ms; libp2p's default 10,000). */
        handshakeTimeoutMs: z.coerce.number().int().min(100).max(60_000).default(5_000),
        /** Addresses and CIDRs the two per-IP limits do not apply to (comma list in env and flags; '' for none). */
        limitsExempt: cidrList.default(['127.0.0.0/8', '::1/128']),
        /** /ready fails with fewer peers than this. */
        minPeers: z.coerce.number().int().min(0).default(0),
        /** Kademlia DHT discovery. */
        dht: z.boolean().default(true),
        /** How long a ban lasts (seconds). */
        banSeconds: z.coerce.number().int().min(1).default(3600),
        /**
         * Where the node's identity key (its peer id; it signs every connection's handshake) is
         * held (docs/operations/keys.md): `file`, DATADIR/keys/node.key (made on first start);
         * `hsm`, a secp256k1 key on a PKCS#11 token (`module` the PKCS#11 library, `token` the
         * token's label, `pinFile` a file holding the user PIN, `key` the key's label): no key file
         * is read or made. JSON in env (CAIRN_P2P_IDENTITY).
         */
        identity: z
          .preprocess(
            (v) => (typeof v === 'string' ? parseJsonOr(v) : v),
            z.discriminatedUnion('kind', [
              z.object({ kind: z.literal('file') }).strict(),
              z
                .object({
                  kind: z.literal('hsm'),
                  ...hsmKeyFields("the identity key's label on the token is required"),
                })
                .strict(),
            ]),
          )
          .default({ kind: 'file' }),
      })
      .strict()
      .default({
        addr: '0.0.0.0',
        port: 30303,
        bootnodes: [],
        announce: [],
        maxPeers: 50,
        maxPeersPerIp: 8,
        inboundRatePerIp: 5,
        maxPendingPerIp: 2,
        handshakeTimeoutMs: 5_000,
        limitsExempt: ['127.0.0.0/8', '::1/128'],
        minPeers: 0,
        dht: true,
        banSeconds: 3600,
        identity: { kind: 'file' },
      }),
  })
  .strict()

export type NodeConfig = z.output<typeof nodeConfigSchema>

/** Whether the RPC requires credentials: `auth.enabled`, or any API key or JWT secret configured. */
export function authActive(config: NodeConfig): boolean {
  const a = config.auth
  return a.enabled || a.apiKeys.length > 0 || a.jwtSecret !== undefined || a.jwksUrl !== undefined
}

/** A key on a PKCS#11 token, as `bft.signer` and `p2p.identity` kind `hsm` name it. */
function hsmKeyFields(keyRequired: string) {
  return {
    module: z
      .string({ error: 'module: the PKCS#11 library path is required' })
      .min(1, 'module: the PKCS#11 library path (SoftHSM2: /usr/lib/softhsm/libsofthsm2.so)'),
    token: z
      .string({ error: "token: the token's label is required" })
      .min(1, "token: the token's label")
      .max(32, 'token: a token label has at most 32 characters'),
    pinFile: z
      .string({ error: 'pinFile: a file holding the user PIN is required' })
      .min(1, 'pinFile: a file holding the user PIN'),
    key: z.string({ error: `key: ${keyRequired}` }).min(1, "key: the key's label on the token"),
  }
}

function parseJsonOr(v: string): unknown {
  try {
    return JSON.parse(v)
  } catch {
    return v
  }
}
