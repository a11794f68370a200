import { readFileSync } from 'node:fs'
import { issueMessage } from '@cairn/rpc/issue-message'
import { readOwnerOnlyFile, ServiceErrorCode } from '@cairn/service-kit'
import { CairnError, isCairnError } from '@cairn/utils'
import { parse as parseToml } from 'smol-toml'
import { ConfigErrorCode } from './errors.ts'
import { SECRET } from './print.ts'
import { checkProfile } from './profile.ts'
import { type NodeConfig, nodeConfigSchema } from './schema.ts'

/** Where a config value came from, for error messages. */
export type ConfigSource = 'default' | 'file' | 'env' | 'flag'

export interface ConfigInputs {
  /** Dotted keys from command-line flags (`{ 'http.port': '8546' }`). */
  flags: Record<string, unknown>
  /** The process environment. */
  env: Record<string, string | undefined>
  /** Path of a TOML or JSON file. */
  file?: string
}

/**
 * The config loader: the only code that reads the environment and the command line's values.
 * Merges defaults < file < env (`CAIRN_…`) < flags and validates the result; an unknown key or a
 * bad value names the key, the value, what was expected and where it came from.
 */
export function loadConfig(inputs: ConfigInputs): NodeConfig {
  return loadConfigWithSources(inputs).config
}

/** The effective config and where each set key came from (for `cairn config print`). */
export interface LoadedConfig {
  config: NodeConfig
  sources: Map<string, ConfigSource>
}

/** {@link loadConfig}, also reporting the source of every key set by a file, env or flag. */
export function loadConfigWithSources(inputs: ConfigInputs): LoadedConfig {
  const merged: Record<string, unknown> = {}
  const sources = new Map<string, ConfigSource>()
  if (inputs.file) {
    for (const [k, v] of Object.entries(flatten(readConfigFile(inputs.file)))) set(merged, sources, k, v, 'file')
  }
  for (const [name, value] of Object.entries(inputs.env)) {
    if (!name.startsWith('CAIRN_') || value === undefined || name === 'CAIRN_PASSWORD') continue
    // Other tools share the CAIRN_ prefix (test switches, scripts): only known keys are read.
    // `CAIRN_X_FILE=path` gives X the content of the file (secrets stay out of the environment).
    const fromFile = name.endsWith('_FILE') && !KNOWN_KEYS.has(envKey(name) ?? '') // CAIRN_LOG_FILE is log.file
    const key = envKey(fromFile ? name.slice(0, -'_FILE'.length) : name)
    if (!key || !KNOWN_KEYS.has(key)) continue
    if (value === '') {
      throw new CairnError(ConfigErrorCode.INVALID, `config (environment ${name}): empty value`, {
        fault: 'caller',
        hint: `unset ${name} or give it a value`,
      })
    }
    set(merged, sources, key, fromFile ? readValueFile(name, value, isSecretKey(key)) : coerceEnv(value), 'env')
  }
  for (const [k, v] of Object.entries(inputs.flags)) if (v !== undefined) set(merged, sources, k, v, 'flag')

  const parsed = nodeConfigSchema.safeParse(merged)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    // An item of a list (`http.cors.0`) is reported as its list's key.
    const path = (issue?.path ?? []).filter((p) => typeof p !== 'number').join('.')
    const keys = issue && 'keys' in issue ? (issue.keys as string[]) : []
    const inner = keys.length ? (path ? `${path}.${keys[0]}` : String(keys[0])) : path
    // Inside a value set whole (`log.modules.rpc` of CAIRN_LOG_MODULES), name the key that was set.
    const key = [...sources.keys()].find((k) => inner.startsWith(`${k}.`)) ?? inner
    const source = sources.get(key) ?? [...sources].find(([k]) => k.startsWith(`${key}.`))?.[1] ?? 'default'
    const value = key ? JSON.stringify(get(merged, key)) : ''
    const from =
      source === 'file'
        ? `config file ${inputs.file}`
        : source === 'env'
          ? `environment ${toEnvName(key)}`
          : source === 'flag'
            ? `flag --${flagName(key)}`
            : 'defaults'
    const what = keys.length ? 'unknown key' : `bad value ${value}: ${issue ? issueMessage(issue) : 'not accepted'}`
    throw new CairnError(ConfigErrorCode.INVALID, `config "${key}" (${from}): ${what}`, {
      fault: 'caller',
      hint: 'see `cairn start --help` for the keys and their values',
    })
  }
  checkTestbed(parsed.data, sources, inputs.env)
  checkProfile(parsed.data, sources)
  return { config: parsed.data, sources }
}

/** The testbed's fault keys (`testbed.*`) are honoured only with `CAIRN_TESTBED=1`, and never in the prod profile. */
function checkTestbed(
  config: NodeConfig,
  sources: Map<string, ConfigSource>,
  env: Record<string, string | undefined>,
): void {
  const set = [...sources.keys()].filter((k) => k.startsWith('testbed.'))
  if (set.length === 0) return
  const prod = config.profile === 'prod' || (config.profile === undefined && !config.dev)
  if (env.CAIRN_TESTBED !== '1' || prod) {
    throw new CairnError(
      ConfigErrorCode.INVALID,
      `config "${set[0]}": testbed fault keys are for the network testbed only${prod ? ' (refused in the prod profile)' : ''}`,
      { fault: 'caller', hint: 'remove the testbed.* keys (a test network sets CAIRN_TESTBED=1 and profile=test)' },
    )
  }
}

/** A key whose value is a secret (redacted by `cairn config print`), or a URL that may carry a password. */
function isSecretKey(key: string): boolean {
  return SECRET.test(key) || /Url$/.test(key)
}

/**
 * The content of a `CAIRN_X_FILE` file. A secret's (`isSecretKey`) goes through service-kit's file
 * provider (the one face every service reads secrets by): refused when other users may read or
 * write it, as the keystores refuse theirs; any other (the bootnodes list) is read as it is. The
 * error names the variable, never the content.
 */
function readValueFile(name: string, path: string, secret: boolean): string {
  try {
    const bytes = secret ? readOwnerOnlyFile(path, name) : readFileSync(path)
    return new TextDecoder().decode(bytes).replace(/\r?\n$/, '')
  } catch (err) {
    if (isCairnError(err, ServiceErrorCode.SECRET_FILE_PERMISSIONS)) throw err
    throw new CairnError(ConfigErrorCode.UNREADABLE, `cannot read ${name}=${path}: ${(err as Error).message}`, {
      fault: 'caller',
      hint: `point ${name} at a readable file`,
    })
  }
}

/**
 * The secret files the environment names (`CAIRN_X_FILE=path` for a known secret key X), by variable:
 * the config reloader watches them, so that a rotated secret is read again without a restart.
 */
export function secretFilesOf(env: Record<string, string | undefined>): Map<string, string> {
  const files = new Map<string, string>()
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('CAIRN_') || !name.endsWith('_FILE') || !value || KNOWN_KEYS.has(envKey(name) ?? '')) continue
    const key = envKey(name.slice(0, -'_FILE'.length))
    if (key && KNOWN_KEYS.has(key) && isSecretKey(key)) files.set(name, value)
  }
  return files
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new CairnError(ConfigErrorCode.UNREADABLE, `cannot read config file ${path}: ${(err as Error).message}`, {
      fault: 'caller',
      hint: 'check the --config path',
    })
  }
  try {
    return path.endsWith('.json') ? JSON.parse(text) : (parseToml(text) as Record<string, unknown>)
  } catch (err) {
    throw new CairnError(
      ConfigErrorCode.INVALID,
      `config file ${path} does not parse: ${(err as Error).message.split('\n')[0]}`,
      {
        fault: 'caller',
      },
    )
  }
}

/** `{ http: { port: 1 } }` → `{ 'http.port': 1 }` */
function flatten(obj: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k
    if (v && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, flatten(v as Record<string, unknown>, key))
    else out[key] = v
  }
  return out
}

/** The schema's groups of keys (`http`, `rpc`, `rateLimit`…): its object-valued entries. */
const NESTED: string[] = Object.entries(nodeConfigSchema.shape)
  .filter(([, v]) => ((v as { unwrap?: () => unknown }).unwrap?.() as { shape?: unknown } | undefined)?.shape)
  .map(([k]) => k)

/** Every dotted key the schema knows (`http.port`, `blockTime`…). */
const KNOWN_KEYS: Set<string> = (() => {
  const keys = new Set<string>()
  for (const [k, v] of Object.entries(nodeConfigSchema.shape)) {
    const inner = (v as { unwrap?: () => unknown }).unwrap?.() as { shape?: Record<string, unknown> } | undefined
    if (NESTED.includes(k) && inner?.shape) for (const sub of Object.keys(inner.shape)) keys.add(`${k}.${sub}`)
    else keys.add(k)
  }
  return keys
})()

/** `CAIRN_HTTP_PORT` → `http.port`; `CAIRN_BLOCK_TIME` → `blockTime`. */
function envKey(name: string): string | undefined {
  const rest = name.slice('CAIRN_'.length).toLowerCase()
  for (const group of NESTED) {
    const snake = group.replace(/([A-Z])/g, '_$1').toLowerCase() // rateLimit → rate_limit
    if (rest.startsWith(`${snake}_`)) return `${group}.${camel(rest.slice(snake.length + 1))}`
  }
  return camel(rest)
}

/** Keys whose flag is Anvil's name, not the key's spelling. */
const ANVIL_FLAGS: Record<string, string> = {
  'fork.url': 'fork-url',
  'fork.blockNumber': 'fork-block-number',
  'fork.chainId': 'fork-chain-id',
  'fork.retries': 'retries',
  'fork.timeoutMs': 'timeout',
  'fork.requestsPerSecond': 'fork-requests-per-second',
  'devChain.hardfork': 'hardfork',
  'devChain.gasLimit': 'gas-limit',
  'devChain.baseFee': 'base-fee',
  'devChain.gasPrice': 'gas-price',
  'devChain.timestamp': 'timestamp',
  'devChain.order': 'order',
  'devChain.disableBlockGasLimit': 'disable-block-gas-limit',
  'devChain.codeSizeLimit': 'code-size-limit',
  'devChain.disableCodeSizeLimit': 'disable-code-size-limit',
}

/** The command-line spelling of a key: `blockTime` → `block-time`, `http.port` stays. */
function flagName(key: string): string {
  return ANVIL_FLAGS[key] ?? key.replace(/([A-Z])/g, (c) => `-${c.toLowerCase()}`)
}

function toEnvName(key: string): string {
  return `CAIRN_${key
    .replace(/\./g, '_')
    .replace(/([A-Z])/g, '_$1')
    .toUpperCase()}`
}

function camel(s: string): string {
  return s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())
}

function coerceEnv(v: string): unknown {
  if (v === 'true') return true
  if (v === 'false') return false
  return v
}

function set(
  obj: Record<string, unknown>,
  sources: Map<string, ConfigSource>,
  key: string,
  value: unknown,
  source: ConfigSource,
) {
  const parts = key.split('.')
  let cur = obj
  for (const p of parts.slice(0, -1)) {
    if (typeof cur[p] !== 'object' || cur[p] === null) cur[p] = {}
    cur = cur[p] as Record<string, unknown>
  }
  cur[parts.at(-1) as string] = value
  sources.set(key, source)
}

function get(obj: Record<string, unknown>, key: string): unknown {
  return key
    .split('.')
    .reduce<unknown>((o, p) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[p] : undefined), obj)
}
