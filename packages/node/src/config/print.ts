import type { ConfigSource, LoadedConfig } from './load.ts'

/** Keys whose values never leave the process in clear. */
export const SECRET = /(mnemonic|password|secret|privateKey|apiKey|jwt|token)$/i

/**
 * The effective config as `key = value  # source` lines, in key order, secrets redacted. Keys
 * nobody set show `# default`.
 */
export function printConfig(loaded: LoadedConfig): string {
  const lines: string[] = []
  for (const [key, value] of flattenValues(loaded.config as unknown as Record<string, unknown>)) {
    // An entry of a value set whole (`log.modules.rpc` from CAIRN_LOG_MODULES) has that value's source.
    const whole = [...loaded.sources.keys()].find((k) => key.startsWith(`${k}.`))
    const source: ConfigSource =
      loaded.sources.get(key) ?? (whole === undefined ? undefined : loaded.sources.get(whole)) ?? 'default'
    const shown = SECRET.test(key) ? '"[redacted]"' : render(withoutUrlPassword(value))
    lines.push(`${key} = ${shown}  # ${source}`)
  }
  return `${lines.join('\n')}\n`
}

function flattenValues(obj: Record<string, unknown>, prefix = ''): [string, unknown][] {
  const out: [string, unknown][] = []
  for (const key of Object.keys(obj).sort()) {
    const v = obj[key]
    const k = prefix ? `${prefix}.${key}` : key
    if (v && typeof v === 'object' && !Array.isArray(v)) out.push(...flattenValues(v as Record<string, unknown>, k))
    else out.push([k, v])
  }
  return out
}

function render(v: unknown): string {
  if (typeof v === 'bigint') return v.toString()
  if (v === undefined) return '(unset)'
  return JSON.stringify(v)
}

/** `redis://:pw@host` → `redis://:[redacted]@host`: passwords inside URLs are secrets too. */
function withoutUrlPassword(v: unknown): unknown {
  return typeof v === 'string' ? v.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*:)[^@/]+@/i, '$1[redacted]@') : v
}
