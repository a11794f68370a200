// The next consensus key of a rotation the staking contract decides (cairn staking rotate-key):
// `validator.next.key` without `validator.rotation.json` is loaded as the key the chain rotates to,
// never promoted by the start-up (the engine picks per height the key in the set).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadOrCreateKey, loadValidatorKeys, scheduleValidatorRotation } from '@cairn/consensus/validator-keys'
import { afterAll, describe, expect, it } from 'vitest'

const root = mkdtempSync(join(tmpdir(), 'cairn-rotation-following-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

describe('a validator key the staking contract rotates to', () => {
  it('is loaded beside the current key, whatever the head, and blocks a height-scheduled rotation', () => {
    const dir = join(root, 'k')
    const current = loadOrCreateKey(join(dir, 'validator.key'), 'validator key')
    expect(loadValidatorKeys(dir, 10n).following).toBeNull()
    const next = loadOrCreateKey(join(dir, 'validator.next.key'), 'next validator key')
    for (const head of [0n, 10n, 1_000_000n]) {
      const keys = loadValidatorKeys(dir, head)
      expect(keys.current.address).toBe(current.address)
      expect(keys.following?.address).toBe(next.address)
      expect(keys.next).toBeNull()
    }
    expect(() => scheduleValidatorRotation(dir, 100n, 10n)).toThrow(
      expect.objectContaining({ code: 'KEY_ROTATION_PENDING' }),
    )
  })
})
