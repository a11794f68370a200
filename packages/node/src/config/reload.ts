import { type FSWatcher, watch } from 'node:fs'
import { basename, dirname } from 'node:path'
import { readOwnerOnlyFile, Secrets, type SecretWatch } from '@cairn/service-kit'
import type { Logger } from '@cairn/utils'
import { type ConfigInputs, loadConfig, secretFilesOf } from './load.ts'
import type { NodeConfig } from './schema.ts'

/**
 * The keys a running node takes on reload: log levels, rate limits (not their store), CORS origins
 * and virtual hosts, API keys. Everything else is read once at start.
 */
export const HOT_RELOADABLE: readonly RegExp[] = [
  /^log\.level$/,
  /^log\.modules(\.|$)/,
  /^rateLimit\.(enabled|windowSeconds|perIp|perKey|onStoreError)$/,
  /^http\.(cors|vhosts)$/,
  /^auth\.(apiKeys|jwtSecret)$/,
]

/** What a reload found: keys applied, keys that changed but need a restart. */
export interface ConfigChange {
  reloaded: string[]
  needsRestart: string[]
}

/** The dotted keys whose values differ (a list is one value). */
export function changedKeys(prev: NodeConfig, next: NodeConfig): string[] {
  const a = flat(prev as unknown as Record<string, unknown>)
  const b = flat(next as unknown as Record<string, unknown>)
  const keys = new Set([...a.keys(), ...b.keys()])
  return [...keys].filter((k) => a.get(k) !== b.get(k)).sort()
}

/**
 * Re-reads the config sources (the same file, environment and flags as at start) on SIGHUP, when
 * the config file changes (fs.watch on its directory, so editors that replace the file are seen;
 * debounced), and when a secret file named by `CAIRN_X_FILE` changes (read every `secretPollMs`
 * through service-kit's Secrets: a mounted Kubernetes Secret swaps its files by symlink, which a
 * watch of the name misses; a world-readable replacement is refused and logged). A config that does not load is refused whole and logged; the running one
 * stays. Changed keys in {@link HOT_RELOADABLE} are applied through `apply` and logged
 * (`reloaded: rateLimit.perIp, auth.apiKeys`); any other changed key is logged as needing a
 * restart and keeps its running value.
 */
export class ConfigReloader {
  private running: NodeConfig
  private watcher: FSWatcher | null = null
  private secretWatches: SecretWatch[] = []
  private timer: NodeJS.Timeout | null = null
  private readonly onHup = () => this.reload('SIGHUP')

  constructor(
    private readonly opts: { inputs: ConfigInputs; debounceMs?: number; secretPollMs?: number },
    private readonly modules: {
      logger: Logger
      initial: NodeConfig
      apply: (config: NodeConfig) => void
      /**
       * Re-reads files the config names whose content may change under the same path (the TLS
       * certificate and key: a renewal), at every reload that loads; a failure is logged and the
       * old content kept.
       */
      refresh?: () => void
    },
  ) {
    this.running = modules.initial
  }

  start(): void {
    process.on('SIGHUP', this.onHup)
    this.watchSecretFiles()
    const file = this.opts.inputs.file
    if (!file) return
    try {
      this.watcher = watch(dirname(file), (_event, name) => {
        if (name !== null && name !== basename(file)) return
        if (this.timer) clearTimeout(this.timer)
        this.timer = setTimeout(() => this.reload('file change'), this.opts.debounceMs ?? 300)
      })
      this.watcher.on('error', (err) => this.modules.logger.warn({ err: err.message }, 'config file watch failed'))
    } catch (err) {
      this.modules.logger.warn(
        { err: (err as Error).message, file },
        'cannot watch the config file; SIGHUP still reloads',
      )
    }
  }

  stop(): void {
    process.off('SIGHUP', this.onHup)
    for (const w of this.secretWatches) w.stop()
    this.secretWatches = []
    this.watcher?.close()
    if (this.timer) clearTimeout(this.timer)
  }

  /** A changed secret file reloads the config: its key applies when hot-reloadable (`auth.jwtSecret`). */
  private watchSecretFiles(): void {
    const secrets = new Secrets({ pollMs: this.opts.secretPollMs ?? 5_000 }, { logger: this.modules.logger })
    for (const [name, path] of secretFilesOf(this.opts.inputs.env)) {
      let initial: Uint8Array
      try {
        initial = readOwnerOnlyFile(path, name)
      } catch {
        continue // the config loaded without it (or it changed since): the next reload says why
      }
      this.secretWatches.push(secrets.watch(path, name, initial, () => void this.reload(`${name} changed`)))
    }
  }

  /** The config in force: the start's, with the reloaded keys of every reload since. */
  get config(): NodeConfig {
    return this.running
  }

  /** Re-reads the sources now; null when the new config was refused. */
  reload(trigger: string): ConfigChange | null {
    const { logger } = this.modules
    let next: NodeConfig
    try {
      next = loadConfig(this.opts.inputs)
    } catch (err) {
      logger.error({ trigger, err: (err as Error).message }, 'config reload refused; the running config is kept')
      return null
    }
    if (this.modules.refresh) {
      try {
        this.modules.refresh()
      } catch (err) {
        logger.error({ trigger, err: (err as Error).message }, 'reloading files failed; the running ones are kept')
      }
    }
    const changed = changedKeys(this.running, next)
    const reloaded = changed.filter((k) => HOT_RELOADABLE.some((r) => r.test(k)))
    const needsRestart = changed.filter((k) => !reloaded.includes(k))
    for (const key of needsRestart) {
      logger.warn({ trigger, key }, `config ${key} changed: needs a restart (the running value is kept)`)
    }
    if (reloaded.length === 0) {
      if (needsRestart.length === 0) logger.info({ trigger }, 'config reloaded: nothing changed')
      return { reloaded, needsRestart }
    }
    const effective = structuredClone(this.running)
    for (const key of reloaded) setKey(effective, key, getKey(next, key))
    try {
      this.modules.apply(effective)
    } catch (err) {
      logger.error(
        { trigger, err: (err as Error).message },
        'config reload failed to apply; the running config is kept',
      )
      return null
    }
    this.running = effective
    logger.info({ trigger, keys: reloaded }, `reloaded: ${reloaded.join(', ')}`)
    return { reloaded, needsRestart }
  }
}

function flat(obj: Record<string, unknown>, prefix = '', out = new Map<string, string>()): Map<string, string> {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k
    if (v && typeof v === 'object' && !Array.isArray(v)) flat(v as Record<string, unknown>, key, out)
    else out.set(key, JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x)) ?? 'undefined')
  }
  return out
}

function getKey(obj: unknown, key: string): unknown {
  return key
    .split('.')
    .reduce<unknown>((o, p) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[p] : undefined), obj)
}

function setKey(obj: unknown, key: string, value: unknown): void {
  const parts = key.split('.')
  let cur = obj as Record<string, unknown>
  for (const p of parts.slice(0, -1)) {
    if (typeof cur[p] !== 'object' || cur[p] === null) cur[p] = {}
    cur = cur[p] as Record<string, unknown>
  }
  const last = parts.at(-1) as string
  if (value === undefined) delete cur[last]
  else cur[last] = value
}
