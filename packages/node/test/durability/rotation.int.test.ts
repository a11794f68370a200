import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadOrCreateKey, loadValidatorKeys, scheduleValidatorRotation } from '@cairn/consensus/validator-keys'
import { afterAll, describe, expect, it } from 'vitest'

const root = mkdtempSync(join(tmpdir(), 'cairn-rotation-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
let n = 0
const keysDir = () => join(root, `k${n++}`)

describe('validator key rotation', () => {
  it('signs with the old key below the height and the new one from it; promotes once the chain passes it', () => {
    const dir = keysDir()
    const old = loadOrCreateKey(join(dir, 'validator.key'), 'validator key')
    const rotation = scheduleValidatorRotation(dir, 100n, 10n)
    const next = rotation.next?.key
    expect(next?.address).not.toBe(old.address)
    expect(rotation.keyAt(99n).address).toBe(old.address)
    expect(rotation.keyAt(100n).address).toBe(next?.address)
    for (const f of readdirSync(dir)) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600)

    // restart below the height: nothing changes
    const before = loadValidatorKeys(dir, 99n)
    expect(before.current.address).toBe(old.address)
    expect(before.next?.activeFrom).toBe(100n)

    // restart at the height: the new key is current, the old one kept as retired
    const after = loadValidatorKeys(dir, 100n)
    expect(after.current.address).toBe(next?.address)
    expect(after.next).toBeNull()
    expect(existsSync(join(dir, `validator.retired-${old.address}.key`))).toBe(true)
    expect(existsSync(join(dir, 'validator.rotation.json'))).toBe(false)
  })

  it('refuses a second pending rotation, a height not above the head, and a missing key', () => {
    const dir = keysDir()
    expect(() => scheduleValidatorRotation(dir, 5n, 0n)).toThrow(
      expect.objectContaining({ code: 'KEY_ROTATION_NO_KEY' }),
    )
    loadOrCreateKey(join(dir, 'validator.key'), 'validator key')
    expect(() => scheduleValidatorRotation(dir, 10n, 10n)).toThrow(
      expect.objectContaining({ code: 'KEY_ROTATION_HEIGHT' }),
    )
    scheduleValidatorRotation(dir, 20n, 10n)
    expect(() => scheduleValidatorRotation(dir, 30n, 10n)).toThrow(
      expect.objectContaining({ code: 'KEY_ROTATION_PENDING' }),
    )
  })

  it('refuses a rotation whose next key went missing', () => {
    const dir = keysDir()
    loadOrCreateKey(join(dir, 'validator.key'), 'validator key')
    scheduleValidatorRotation(dir, 20n, 10n)
    rmSync(join(dir, 'validator.next.key'))
    expect(() => loadValidatorKeys(dir, 5n)).toThrow(expect.objectContaining({ code: 'KEY_ROTATION_INVALID' }))
  })
})
