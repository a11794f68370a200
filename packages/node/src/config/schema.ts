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
    http: z
      .object({
        addr: z.string().min(1).default('127.0.0.1'),
        port: z.coerce.number().int().min(0).max(65535).default(8545),
      })
      .strict()
      .default({ addr: '127.0.0.1', port: 8545 }),
    log: z
      .object({
        level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
        format: z.enum(['json', 'pretty', 'auto']).default('auto'),
      })
      .strict()
      .default({ level: 'info', format: 'auto' }),
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
    keys: z
      .object({
        /** Create (and require) a validator key in the datadir. */
        validator: z.boolean().default(false),
      })
      .strict()
      .default({ validator: false }),
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
        /** Role of a JWT without a `role` claim. */
        jwtRole: z.enum(['public', 'user', 'operator', 'admin']).default('admin'),
      })
      .strict()
      .default({ enabled: false, apiKeys: [], jwtRole: 'admin' }),
    rateLimit: z
      .object({
        enabled: z.boolean().default(false),
        /** Sliding window length in seconds. */
        windowSeconds: z.coerce.number().int().min(1).max(3600).default(60),
        /** Weight an anonymous IP may spend per window (eth_call 5, eth_getLogs 10, debug_* 20, else 1). */
        perIp: z.coerce.number().int().min(1).default(600),
        /** Weight one API key or JWT subject may spend per window. */
        perKey: z.coerce.number().int().min(1).default(6000),
      })
      .strict()
      .default({ enabled: false, windowSeconds: 60, perIp: 600, perKey: 6000 }),
    dev_accounts: z
      .object({
        mnemonic: z.string().default('test test test test test test test test test test test junk'),
        count: z.coerce.number().int().min(0).max(1000).default(10),
        balance: z.coerce
          .bigint()
          .nonnegative()
          .default(10_000n * 10n ** 18n),
      })
      .strict()
      .default({
        mnemonic: 'test test test test test test test test test test test junk',
        count: 10,
        balance: 10_000n * 10n ** 18n,
      }),
  })
  .strict()

export type NodeConfig = z.output<typeof nodeConfigSchema>

/** Whether the RPC requires credentials: `auth.enabled`, or any API key or JWT secret configured. */
export function authActive(config: NodeConfig): boolean {
  return config.auth.enabled || config.auth.apiKeys.length > 0 || config.auth.jwtSecret !== undefined
}

function parseJsonOr(v: string): unknown {
  try {
    return JSON.parse(v)
  } catch {
    return v
  }
}
