import { describe, expect, it } from 'vitest'
import { CairnError, isCairnError, walkCause } from '../src/index.ts'

describe('CairnError', () => {
  it('carries code, fault and hint, and finds itself in a cause chain', () => {
    const inner = new CairnError('DB_CLOSED', 'database is closed', { fault: 'transient', hint: 'restart the node' })
    const outer = new Error('wrapped', { cause: inner })
    expect(inner.userMessage).toBe('database is closed (restart the node)')
    expect(isCairnError(inner, 'DB_CLOSED')).toBe(true)
    expect(isCairnError(inner, 'OTHER')).toBe(false)
    expect(walkCause(outer, (e) => isCairnError(e))).toBe(inner)
    expect(new CairnError('X', 'y').fault).toBe('internal')
  })
})
