// The migration runner on PGlite: versions applied in ascending order once, each in its own
// transaction (a failing one leaves nothing behind and stops the run), duplicates refused.
import { describe, expect, it } from 'vitest'
import { appliedVersions, migrate, openPglite } from '../src/sql/index.ts'

const opts = { table: 'kit_migrations', lockId: 1234 }

describe('migrate', () => {
  it('applies pending versions in order, once; a failing version rolls back and stops the run', async () => {
    const sql = await openPglite(null)
    try {
      const v2 = { version: 2, name: 'b', sql: 'ALTER TABLE t ADD COLUMN b int;' }
      const v1 = { version: 1, name: 'a', sql: 'CREATE TABLE t (a int);' }
      expect(await migrate(sql, [v2, v1], opts)).toEqual([1, 2])
      expect(await migrate(sql, [v1, v2], opts)).toEqual([])
      const bad = { version: 3, name: 'bad', sql: 'ALTER TABLE t ADD COLUMN c int; SELECT no_such_function();' }
      const v4 = { version: 4, name: 'd', sql: 'ALTER TABLE t ADD COLUMN d int;' }
      await expect(migrate(sql, [v1, v2, bad, v4], opts)).rejects.toThrow(/no_such_function/)
      expect(await appliedVersions(sql, 'kit_migrations')).toEqual([1, 2])
      const cols = await sql.query<{ column_name: string }>(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 't' ORDER BY column_name",
      )
      expect(cols.map((c) => c.column_name)).toEqual(['a', 'b']) // c rolled back, d never ran
      await expect(migrate(sql, [v1, v1], opts)).rejects.toThrow(/listed twice/)
    } finally {
      await sql.close()
    }
  })
})
