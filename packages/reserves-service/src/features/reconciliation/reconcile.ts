// One reconciliation: the snapshot's liabilities per currency (its root sums, in the smallest unit
// at the snapshot's decimals) against the declared assets summed per currency. Every chain is read
// at one block, fixed at the start (its block number read once), so a run sees one state per
// chain; a read that fails fails the whole run — a partial sum would understate the assets.
import type { Currency } from '@cairn/reserves/verifier'
import { type CurrencyBalance, compareCurrency, type ScaledAmount } from './ratio.ts'
import { type AssetChainClient, type RpcMethod, readFailed } from './rpc.ts'
import type { LoadedSource } from './sources.ts'

/** A source's contribution to a run. */
export interface SourceReading {
  id: string
  kind: 'onchain' | 'offchain'
  currency: string
  label: string
  /** An integer at `decimals`. */
  amount: string
  decimals: number
  chainId?: number
  address?: string
  token?: string | null
  blockNumber?: string
  attestedBy?: string
  asOf?: string
}

/** A chain read by a run, at the block it pinned. */
export interface ChainReading {
  chainId: number
  /** The endpoint's origin. */
  rpc: string
  blockNumber: string
}

/** What a finished (not failed) run found. */
export interface ReconciliationResult {
  snapshotId: string
  status: 'ok' | 'shortfall'
  currencies: CurrencyBalance[]
  chains: ChainReading[]
  sources: SourceReading[]
  /** Enabled sources whose currency the snapshot does not have (not counted). */
  unmatched: string[]
}

export interface ReconcileInput {
  snapshotId: string
  currencies: Currency[]
  /** The root's sums, one decimal string per currency. */
  totals: string[]
  sources: LoadedSource[]
}

export interface ReconcileModules {
  /** A reader for a chain's endpoint. */
  reader: (url: string) => AssetChainClient
  onRpcError?: (method: RpcMethod) => void
}

/** Reads every source and compares; throws RESERVES_RECONCILIATION_READ_FAILED when any read fails. */
export async function reconcile(input: ReconcileInput, m: ReconcileModules): Promise<ReconciliationResult> {
  const symbols = new Set(input.currencies.map((c) => c.symbol))
  const counted = input.sources.filter((s) => symbols.has(s.currency))
  const readings: SourceReading[] = []
  const chains: ChainReading[] = []
  // one reader, one chain id check and one block per endpoint
  const byUrl = new Map<string, LoadedSource[]>()
  for (const s of counted) {
    if (s.kind !== 'onchain') continue
    const list = byUrl.get(s.rpcUrl!) ?? []
    list.push(s)
    byUrl.set(s.rpcUrl!, list)
  }
  for (const [url, list] of byUrl) {
    const r = m.reader(url)
    const declared = new Set(list.map((s) => s.chainId))
    const chainId = await r.chainId()
    for (const id of declared)
      if (BigInt(id ?? -1) !== chainId) {
        m.onRpcError?.('eth_chainId')
        throw readFailed('eth_chainId', url, `the node is on chain ${chainId}, the source declares chain ${id}`)
      }
    const block = await r.blockNumber()
    chains.push({ chainId: Number(chainId), rpc: list[0]!.rpc ?? '', blockNumber: block.toString() })
    for (const s of list) {
      const v = s.token ? await r.tokenBalance(s.token, s.address!, block) : await r.balance(s.address!, block)
      readings.push({
        id: s.id,
        kind: 'onchain',
        currency: s.currency,
        label: s.label,
        amount: v.toString(),
        decimals: s.decimals,
        chainId: s.chainId!,
        address: s.address!,
        token: s.token,
        blockNumber: block.toString(),
      })
    }
  }
  for (const s of counted) {
    if (s.kind !== 'offchain') continue
    readings.push({
      id: s.id,
      kind: 'offchain',
      currency: s.currency,
      label: s.label,
      amount: (s.value ?? 0n).toString(),
      decimals: s.decimals,
      attestedBy: s.attestedBy ?? '',
      asOf: s.asOf ?? '',
    })
  }
  const currencies = input.currencies.map((c, i) => {
    const liabilities: ScaledAmount = { value: BigInt(input.totals[i] ?? '0'), decimals: c.decimals }
    const assets = readings
      .filter((r) => r.currency === c.symbol)
      .map((r) => ({ value: BigInt(r.amount), decimals: r.decimals }))
    return compareCurrency(c.symbol, liabilities, assets)
  })
  return {
    snapshotId: input.snapshotId,
    status: currencies.some((c) => c.status === 'shortfall') ? 'shortfall' : 'ok',
    currencies,
    chains,
    sources: readings,
    unmatched: input.sources.filter((s) => !symbols.has(s.currency)).map((s) => s.id),
  }
}
