// The configuration table: key → validated JSON value, versioned (every version kept in
// arb_config_history), every change audited with who, when, old → new — in one transaction.
import type { Sql } from '@cairn/service-kit/sql'
import { CairnError } from '@cairn/utils'
import { ArbErrorCode } from '../errors.ts'
import { DEFAULT_RISK_CONFIG, isRiskKey, parseRiskValue, type RiskConfig, type RiskKey } from '../risk/config.ts'

export interface ConfigEntry {
  key: RiskKey
  value: unknown
  /** 0 for a default never written. */
  version: number
  updatedAt: string | null
  updatedBy: string | null
}

export interface Actor {
  actor: string
  role: string
}

export class ConfigStore {
  constructor(private readonly sql: Sql) {}

  /** The whole configuration: stored values over the defaults. */
  async load(): Promise<{ config: RiskConfig; entries: ConfigEntry[] }> {
    const rows = await this.sql.query('SELECT key, value, version, updated_at, updated_by FROM arb_config')
    const config: Record<string, unknown> = { ...DEFAULT_RISK_CONFIG }
    const stored = new Map<string, ConfigEntry>()
    for (const r of rows) {
      const key = r.key as string
      if (!isRiskKey(key)) continue // a key retired by a later version: ignored
      config[key] = parseRiskValue(key, r.value)
      stored.set(key, {
        key,
        value: r.value,
        version: Number(r.version),
        updatedAt: new Date(r.updated_at as string).toISOString(),
        updatedBy: r.updated_by as string,
      })
    }
    const entries = (Object.keys(DEFAULT_RISK_CONFIG) as RiskKey[]).map(
      (key) =>
        stored.get(key) ?? { key, value: DEFAULT_RISK_CONFIG[key], version: 0, updatedAt: null, updatedBy: null },
    )
    return { config: config as RiskConfig, entries }
  }

  /** The highest version of any key (a cheap change check for other instances). */
  async stamp(): Promise<string> {
    const rows = await this.sql.query(
      'SELECT count(*) AS n, coalesce(max(at), to_timestamp(0)) AS t FROM arb_config_history',
    )
    return `${rows[0]?.n}:${new Date(rows[0]?.t as string).getTime()}`
  }

  /**
   * Validates and writes one key. With `expectedVersion`, refuses (ARB_CONFIG_CONFLICT) unless the
   * stored version is that one (optimistic concurrency for two operators editing at once).
   */
  async put(key: string, value: unknown, who: Actor, expectedVersion?: number): Promise<ConfigEntry> {
    const parsed = parseRiskValue(key, value)
    const k = key as RiskKey
    return this.sql.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(719002)')
      const old = await tx.query('SELECT value, version FROM arb_config WHERE key = $1', [k])
      const oldVersion = old[0] ? Number(old[0].version) : 0
      if (expectedVersion !== undefined && expectedVersion !== oldVersion)
        throw new CairnError(ArbErrorCode.CONFIG_CONFLICT, `${k} is at version ${oldVersion}, not ${expectedVersion}`, {
          fault: 'caller',
          hint: 'read the configuration again and retry',
        })
      const version = oldVersion + 1
      const at = new Date()
      const json = JSON.stringify(parsed)
      await tx.query(
        `INSERT INTO arb_config (key, value, version, updated_at, updated_by) VALUES ($1,$2,$3,$4,$5)
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, version = EXCLUDED.version,
           updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by`,
        [k, json, version, at, who.actor],
      )
      await tx.query('INSERT INTO arb_config_history (key, version, value, at, actor) VALUES ($1,$2,$3,$4,$5)', [
        k,
        version,
        json,
        at,
        who.actor,
      ])
      await tx.query('INSERT INTO arb_audit (at, actor, role, action, details) VALUES ($1, $2, $3, $4, $5)', [
        at,
        who.actor,
        who.role,
        'config.set',
        JSON.stringify({ key: k, old: old[0] ? old[0].value : DEFAULT_RISK_CONFIG[k], new: parsed, version }),
      ])
      return { key: k, value: parsed, version, updatedAt: at.toISOString(), updatedBy: who.actor }
    })
  }

  /** Every version of a key, oldest first. */
  async history(key: RiskKey): Promise<{ version: number; value: unknown; at: string; actor: string }[]> {
    const rows = await this.sql.query('SELECT * FROM arb_config_history WHERE key = $1 ORDER BY version', [key])
    return rows.map((r) => ({
      version: Number(r.version),
      value: r.value,
      at: new Date(r.at as string).toISOString(),
      actor: r.actor as string,
    }))
  }
}
