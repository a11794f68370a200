import { Counter, type Registry } from 'prom-client'

/** The ledger's metrics (on the service's registry). Labelled counters start at 0. */
export interface LedgerMetrics {
  /** Changes applied, by kind: changed, added, removed. */
  changes: Counter<'kind'>
  /** Snapshots frozen from the ledger. */
  freezes: Counter
}

export const LEDGER_CHANGE_KINDS = ['changed', 'added', 'removed'] as const

export function createLedgerMetrics(registry: Registry): LedgerMetrics {
  const changes = new Counter({
    name: 'cairn_reserves_ledger_changes_total',
    help: 'Ledger changes applied, by kind (changed, added, removed)',
    labelNames: ['kind'],
    registers: [registry],
  })
  for (const kind of LEDGER_CHANGE_KINDS) changes.inc({ kind }, 0)
  const freezes = new Counter({
    name: 'cairn_reserves_ledger_freezes_total',
    help: 'Snapshots frozen from the ledger',
    registers: [registry],
  })
  return { changes, freezes }
}

export const LEDGER_NATS_OUTCOMES = ['applied', 'replayed', 'refused', 'retried'] as const
const BATCHES = 'cairn_reserves_ledger_nats_batches_total'

/**
 * The NATS consumer's counter of batches by outcome. Made once per registry: a consumer opened
 * again on the same registry (a restart in-process) counts on.
 */
export function createLedgerNatsMetrics(registry: Registry): Counter<'outcome'> {
  const existing = registry.getSingleMetric(BATCHES) as Counter<'outcome'> | undefined
  if (existing) return existing
  const batches = new Counter({
    name: BATCHES,
    help: 'Ledger batches taken from NATS, by outcome (applied, replayed: seen before, refused: terminated, retried: nak, failed for now)',
    labelNames: ['outcome'],
    registers: [registry],
  })
  for (const outcome of LEDGER_NATS_OUTCOMES) batches.inc({ outcome }, 0)
  return batches
}
