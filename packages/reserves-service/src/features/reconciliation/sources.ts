// The assets a custodian declares: on-chain addresses (native or ERC-20 balances, read at each
// run) and off-chain holdings (an amount someone attests, as of a date). The RPC URL is sealed with
// the at-rest key (providers put API keys in it); the API and the audit log show its origin only.
import { randomBytes } from 'node:crypto'
import { ReservesErrorCode } from '@cairn/reserves'
import { CairnError } from '@cairn/utils'
import { type AtRestKey, open, seal } from '../../kernel/at-rest.ts'
import type { Row, Sql } from '../../kernel/sql.ts'
import { formatDecimal, parseDecimal } from './ratio.ts'
import { originOf } from './rpc.ts'
import type { CreateSourceInput, UpdateSourceInput } from './validate.ts'

/** A declared source as the API shows it. */
export interface AssetSource {
  id: string
  kind: 'onchain' | 'offchain'
  currency: string
  label: string
  enabled: boolean
  /** Decimals of the balance read (on-chain) or of the amount given (off-chain). */
  decimals: number
  chainId: number | null
  /** The RPC URL's origin (scheme, host, port): its path and query are never shown. */
  rpc: string | null
  address: string | null
  /** The ERC-20 contract (null: the native balance). */
  token: string | null
  /** Off-chain: the amount in whole units. */
  amount: string | null
  attestedBy: string | null
  asOf: string | null
  createdAt: string
  updatedAt: string
}

/** A source as a run reads it (the RPC URL opened; the amount as an integer at `decimals`). */
export interface LoadedSource extends AssetSource {
  rpcUrl: string | null
  value: bigint | null
}

export const DEFAULT_NATIVE_DECIMALS = 18

const iso = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string).toISOString())
const aad = (id: string) => `asset-source:${id}`

function sourceOf(r: Row): AssetSource {
  const decimals = Number(r.decimals)
  return {
    id: r.id as string,
    kind: r.kind as AssetSource['kind'],
    currency: r.currency as string,
    label: r.label as string,
    enabled: r.enabled === true,
    decimals,
    chainId: r.chain_id === null || r.chain_id === undefined ? null : Number(r.chain_id),
    rpc: (r.rpc_origin as string | null) ?? null,
    address: (r.address as string | null) ?? null,
    token: (r.token as string | null) ?? null,
    amount:
      r.amount === null || r.amount === undefined
        ? null
        : formatDecimal({ value: BigInt(r.amount as string), decimals }),
    attestedBy: (r.attested_by as string | null) ?? null,
    asOf: iso(r.as_of),
    createdAt: iso(r.created_at) as string,
    updatedAt: iso(r.updated_at) as string,
  }
}

export const sourceUnknown = (id: string) =>
  new CairnError(ReservesErrorCode.ASSET_SOURCE_UNKNOWN, `asset source ${id} does not exist`, {
    fault: 'caller',
    hint: 'GET /v1/reconciliation/sources lists them',
  })

const badField = (message: string) =>
  new CairnError(ReservesErrorCode.BAD_OPTIONS, `bad asset source: ${message}`, {
    fault: 'caller',
    hint: 'see docs/reserves/reconciliation.md for the fields',
  })

export class AssetSources {
  constructor(
    private readonly sql: Sql,
    private readonly key: AtRestKey,
  ) {}

  async create(input: CreateSourceInput, tx?: Sql): Promise<AssetSource> {
    const id = `src_${randomBytes(9).toString('hex')}`
    const db = tx ?? this.sql
    if (input.kind === 'onchain') {
      if (input.token && input.decimals === undefined)
        throw badField('decimals is required with token (the ERC-20’s decimals())')
      const r = await db.query(
        `INSERT INTO reserves_asset_sources (id, kind, currency, label, enabled, decimals, chain_id, key_id, rpc_url_enc, rpc_origin, address, token)
         VALUES ($1, 'onchain', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *`,
        [
          id,
          input.currency,
          input.label ?? '',
          input.enabled ?? true,
          input.decimals ?? DEFAULT_NATIVE_DECIMALS,
          input.chainId,
          this.key.id,
          seal(this.key, new TextEncoder().encode(input.rpcUrl), aad(id)),
          originOf(input.rpcUrl),
          input.address.toLowerCase(),
          input.token?.toLowerCase() ?? null,
        ],
      )
      return sourceOf(r[0]!)
    }
    const amount = parseDecimal(input.amount)!
    const r = await db.query(
      `INSERT INTO reserves_asset_sources (id, kind, currency, label, enabled, decimals, amount, attested_by, as_of)
       VALUES ($1, 'offchain', $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
      [
        id,
        input.currency,
        input.label ?? '',
        input.enabled ?? true,
        amount.decimals,
        amount.value.toString(),
        input.attestedBy,
        input.asOf,
      ],
    )
    return sourceOf(r[0]!)
  }

  async list(): Promise<AssetSource[]> {
    return (await this.sql.query('SELECT * FROM reserves_asset_sources ORDER BY created_at, id')).map(sourceOf)
  }

  async get(id: string, tx?: Sql): Promise<AssetSource> {
    const r = await (tx ?? this.sql).query('SELECT * FROM reserves_asset_sources WHERE id = $1', [id])
    if (!r[0]) throw sourceUnknown(id)
    return sourceOf(r[0])
  }

  /** Changes what is given; on-chain fields only on an on-chain source, off-chain ones on an off-chain one. */
  async update(id: string, patch: UpdateSourceInput, tx?: Sql): Promise<AssetSource> {
    const db = tx ?? this.sql
    const cur = await this.get(id, db)
    const offOnly = patch.amount !== undefined || patch.attestedBy !== undefined || patch.asOf !== undefined
    if (cur.kind === 'onchain' && offOnly) throw badField('amount, attestedBy and asOf are for off-chain sources')
    if (cur.kind === 'offchain' && patch.rpcUrl !== undefined) throw badField('rpcUrl is for on-chain sources')
    const amount = patch.amount === undefined ? null : parseDecimal(patch.amount)!
    const r = await db.query(
      `UPDATE reserves_asset_sources SET label = COALESCE($2, label), enabled = COALESCE($3, enabled),
              rpc_url_enc = COALESCE($4, rpc_url_enc), rpc_origin = COALESCE($5, rpc_origin), key_id = CASE WHEN $4::bytea IS NULL THEN key_id ELSE $6 END,
              amount = COALESCE($7, amount), decimals = COALESCE($8, decimals),
              attested_by = COALESCE($9, attested_by), as_of = COALESCE($10::timestamptz, as_of), updated_at = now()
        WHERE id = $1 RETURNING *`,
      [
        id,
        patch.label ?? null,
        patch.enabled ?? null,
        patch.rpcUrl === undefined ? null : seal(this.key, new TextEncoder().encode(patch.rpcUrl), aad(id)),
        patch.rpcUrl === undefined ? null : originOf(patch.rpcUrl),
        this.key.id,
        amount ? amount.value.toString() : null,
        amount ? amount.decimals : null,
        patch.attestedBy ?? null,
        patch.asOf ?? null,
      ],
    )
    if (!r[0]) throw sourceUnknown(id)
    return sourceOf(r[0])
  }

  async remove(id: string, tx?: Sql): Promise<void> {
    const r = await (tx ?? this.sql).query('DELETE FROM reserves_asset_sources WHERE id = $1 RETURNING 1 AS x', [id])
    if (r.length === 0) throw sourceUnknown(id)
  }

  /** The enabled sources, as a run reads them. */
  async loadEnabled(): Promise<LoadedSource[]> {
    const rows = await this.sql.query('SELECT * FROM reserves_asset_sources WHERE enabled ORDER BY created_at, id')
    return rows.map((r) => {
      const s = sourceOf(r)
      const enc = r.rpc_url_enc as Uint8Array | null
      return {
        ...s,
        rpcUrl: enc ? new TextDecoder().decode(open(this.key, enc, aad(s.id))) : null,
        value: r.amount === null || r.amount === undefined ? null : BigInt(r.amount as string),
      }
    })
  }
}
