// The service's schema: the kernel's migrations and every feature's, in the order they were
// published (versions 1 to 10). Never edit a published migration, never reorder: add the next one.
import type { Migration } from '@cairn/service-kit/sql'
import { COMPLIANCE_MIGRATION } from './features/compliance/schema.ts'
import {
  LEDGER_FREEZE_IDS_MIGRATION,
  LEDGER_INCREMENTAL_MIGRATION,
  LEDGER_MIGRATION,
} from './features/ledger/schema.ts'
import { RECONCILIATION_MIGRATION } from './features/reconciliation/schema.ts'
import { WEBHOOKS_MIGRATION } from './features/webhooks/schema.ts'
import { CHAIN_MIGRATION } from './kernel/chain.ts'
import { KERNEL_MIGRATIONS, runReservesMigrations } from './kernel/migrations.ts'
import type { Sql } from './kernel/sql.ts'

/** Every migration of the reserves schema, in order (recorded in `reserves_migrations`). */
export const MIGRATIONS: readonly Migration[] = [
  ...KERNEL_MIGRATIONS,
  WEBHOOKS_MIGRATION,
  RECONCILIATION_MIGRATION,
  COMPLIANCE_MIGRATION,
  LEDGER_MIGRATION,
  CHAIN_MIGRATION,
  LEDGER_INCREMENTAL_MIGRATION,
  LEDGER_FREEZE_IDS_MIGRATION,
]

/** Brings the schema to the latest version; returns the versions it applied. */
export function migrate(sql: Sql): Promise<number[]> {
  return runReservesMigrations(sql, MIGRATIONS)
}
