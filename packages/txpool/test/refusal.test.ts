import { CairnError } from '@cairn/utils'
import { describe, expect, it } from 'vitest'
import { classifyRefusal, REFUSAL_CLASS, TxPoolErrorCode } from '../src/index.ts'

const refusal = (code: TxPoolErrorCode) => new CairnError(code, 'refused', { fault: 'caller' })

describe('classifyRefusal', () => {
  it('classifies every pool code by the record', () => {
    for (const code of Object.values(TxPoolErrorCode)) {
      expect(classifyRefusal(refusal(code)), code).toBe(REFUSAL_CLASS[code])
    }
  })

  it('blames the sender of an invalid transaction, not of one refused for the moment', () => {
    expect(classifyRefusal(refusal(TxPoolErrorCode.INVALID_SENDER))).toBe('bad')
    expect(classifyRefusal(refusal(TxPoolErrorCode.NONCE_TOO_LOW))).toBe('ignore')
    expect(classifyRefusal(refusal(TxPoolErrorCode.FULL))).toBe('ignore')
  })

  it('blames a peer whose blobs or proofs do not verify, not one across a fork boundary', () => {
    expect(classifyRefusal(refusal(TxPoolErrorCode.BLOB_PROOF_INVALID))).toBe('bad')
    expect(classifyRefusal(refusal(TxPoolErrorCode.BLOB_SIDECAR_INVALID))).toBe('bad')
    expect(classifyRefusal(refusal(TxPoolErrorCode.BLOB_SIDECAR_MISSING))).toBe('bad')
    expect(classifyRefusal(refusal(TxPoolErrorCode.BLOB_SIDECAR_VERSION))).toBe('ignore')
  })

  it('outside the pool: a caller fault is bad, a transient one nobody’s, anything else bad', () => {
    expect(classifyRefusal(new CairnError('CHAIN_BLOCK_INVALID', 'x', { fault: 'caller' }))).toBe('bad')
    expect(classifyRefusal(new CairnError('CHAIN_BLOCK_INVALID', 'x', { fault: 'transient' }))).toBe('ignore')
    expect(classifyRefusal(new Error('rlp: bad'))).toBe('bad')
  })
})
