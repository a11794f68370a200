import { describe, expect, it } from 'vitest'
import { CairnError, type CairnErrorCode, isCairnError, walkCause } from '../src/index.ts'

/** utils declares no codes of its own; these stand for any domain's. */
const code = (c: string) => c as CairnErrorCode

describe('CairnError', () => {
  it('carries code, fault and hint, and finds itself in a cause chain', () => {
    const inner = new CairnError(code('DB_CLOSED'), 'database is closed', {
      fault: 'transient',
      hint: 'restart the node',
    })
    const outer = new Error('wrapped', { cause: inner })
    expect(inner.userMessage).toBe('database is closed (restart the node)')
    expect(isCairnError(inner, code('DB_CLOSED'))).toBe(true)
    expect(isCairnError(inner, code('OTHER'))).toBe(false)
    expect(walkCause(outer, (e) => isCairnError(e))).toBe(inner)
    expect(new CairnError(code('X'), 'y').fault).toBe('internal')
  })

  it('refuses, at compile time, a code no domain declares', () => {
    // The registry (CairnErrorCodes) is what `npm run typecheck` checks this line against: the
    // directive fails the typecheck if the made-up code were ever accepted.
    // @ts-expect-error 'NOT_A_DECLARED_CODE' is in no domain's union
    const err = new CairnError('NOT_A_DECLARED_CODE', 'made up')
    expect(err.code).toBe('NOT_A_DECLARED_CODE')
  })
})
