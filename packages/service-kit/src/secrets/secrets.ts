import { CairnError, errorMessage, type Logger } from '@cairn/utils'
import { ServiceErrorCode } from '../errors.ts'
import { AgeSecretProvider } from './age-provider.ts'
import { EnvSecretProvider } from './env-provider.ts'
import { FileSecretProvider } from './file-provider.ts'
import { parseSecretRef, type SecretProvider, type SecretRef } from './provider.ts'

export interface SecretsOptions {
  /** The environment `env:` references read (the config loader passes `process.env`); none: no `env:`. */
  env?: Readonly<Record<string, string | undefined>>
  /** age identity files for `age:` references; none: an `age:` reference is refused with the reason. */
  ageIdentityFiles?: readonly string[]
  /** More providers (`vault:`, `kms:`, …), or replacements of the built-in ones by scheme. */
  providers?: readonly SecretProvider[]
  /** How often a watched secret is read again (default 5 s; a mounted Kubernetes Secret changes within ~1 minute). */
  pollMs?: number
}

export interface SecretsModules {
  logger?: Logger
}

/** A watched secret: stop() ends the polling. */
export interface SecretWatch {
  stop(): void
}

/**
 * Reads secrets by reference through their providers (file, env, age and any registered), and
 * watches the ones that may rotate: every `pollMs` the value is read again and, when it differs and
 * reads cleanly, handed to `onChange`; a rotation that cannot be read (a file briefly missing, a
 * world-readable copy, a bundle the identity cannot open) is reported once and the old value stays
 * in force. See docs/operations/secrets.md.
 */
export class Secrets {
  private readonly providers = new Map<string, SecretProvider>()
  readonly schemes: ReadonlySet<string>

  constructor(
    private readonly opts: SecretsOptions = {},
    private readonly modules: SecretsModules = {},
  ) {
    const builtIn: SecretProvider[] = [
      new FileSecretProvider(),
      new EnvSecretProvider(opts.env ?? {}),
      new AgeSecretProvider({ identityFiles: opts.ageIdentityFiles ?? [] }),
    ]
    for (const p of [...builtIn, ...(opts.providers ?? [])]) this.providers.set(p.scheme, p)
    this.schemes = new Set(this.providers.keys())
  }

  /** The reference in `value`, or null when it is not one (a database URL in the clear). */
  ref(value: string, plainIsFile = true): SecretRef | null {
    return parseSecretRef(value, plainIsFile)
  }

  /** The secret's bytes; `what` names it in errors (a flag). Never empty. */
  async read(reference: string, what: string): Promise<Uint8Array> {
    const ref = this.ref(reference)
    if (!ref)
      throw new CairnError(ServiceErrorCode.SECRET_UNREADABLE, `the ${what} is a URL, not a secret reference`, {
        fault: 'caller',
        hint: `use a path or one of ${[...this.schemes].map((s) => `${s}:`).join(', ')}`,
      })
    const bytes = await this.provider(ref).read(ref.locator, what)
    if (bytes.length === 0)
      throw new CairnError(ServiceErrorCode.SECRET_UNREADABLE, `the ${what} ${reference} is empty`, {
        fault: 'caller',
        hint: 'write the secret into it',
      })
    return bytes
  }

  /** The secret as text without one trailing newline (a password, a URL, a hex key). */
  async readText(reference: string, what: string): Promise<string> {
    return new TextDecoder().decode(await this.read(reference, what)).replace(/\r?\n$/, '')
  }

  /**
   * `value` itself when it is not a reference (`postgres://user:pw@host/db` given in the clear),
   * else the text it refers to: for flags that took a value and may now take a reference.
   */
  async resolve(value: string, what: string): Promise<string> {
    return this.ref(value, false) ? this.readText(value, what) : value
  }

  /** Whether the reference's value may change while the service runs (a file or a bundle; not env). */
  rotates(reference: string): boolean {
    const ref = this.ref(reference)
    return !!ref && this.provider(ref).rotates
  }

  /**
   * Calls `onChange` with the new bytes whenever the secret's value changes (read every `pollMs`,
   * first compared against `initial`). A reference that cannot rotate is not polled.
   */
  watch(
    reference: string,
    what: string,
    initial: Uint8Array,
    onChange: (next: Uint8Array) => void | Promise<void>,
  ): SecretWatch {
    if (!this.rotates(reference)) return { stop() {} }
    let current = initial
    let lastError = ''
    let busy = false
    const log = this.modules.logger
    const timer = setInterval(async () => {
      if (busy) return
      busy = true
      try {
        const next = await this.read(reference, what)
        lastError = ''
        if (sameBytes(next, current)) return
        await onChange(next)
        current = next
        // `secretRef`, not `secret`: the logger redacts `secret` (a value), this names the flag
        log?.info({ secretRef: what }, 'secret rotated: the new value is in force')
      } catch (err) {
        const message = errorMessage(err)
        if (message !== lastError)
          log?.error({ secretRef: what, err: message }, 'secret rotation refused: the old value stays in force')
        lastError = message
      } finally {
        busy = false
      }
    }, this.opts.pollMs ?? 5_000)
    timer.unref()
    return { stop: () => clearInterval(timer) }
  }

  private provider(ref: SecretRef): SecretProvider {
    const p = this.providers.get(ref.scheme)
    if (!p)
      throw new CairnError(ServiceErrorCode.SECRET_UNREADABLE, `no secrets provider for ${ref.scheme}:`, {
        fault: 'caller',
        hint: `use one of ${[...this.schemes].map((s) => `${s}:`).join(', ')}`,
      })
    return p
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}
