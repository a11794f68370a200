// The promotion of the next consensus key (packages/consensus/src/privval/promote-next-key.ts) on
// real files in a temporary directory: the two steps, a crash between them, the states the start
// refuses, nothing to promote, and the decision from a real validator schedule (an old key still
// in the set of the next height is not promoted).
import { linkSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ValidatorSchedule } from '@cairn/consensus'
import {
  loadOrCreateKey,
  loadValidatorKeys,
  NextKeyPromotion,
  nextKeyPromotion,
  promoteNextKeyFile,
  recoverKeyPromotion,
  retiredKeyName,
  scheduleValidatorRotation,
} from '@cairn/consensus/validator-keys'
import { hexToBytes, TypedEmitter, writerLogger } from '@cairn/utils'
import { afterAll, describe, expect, it } from 'vitest'
import { datadirLayout } from '../../src/datadir.ts'
import { loadNodeKeys } from '../../src/keys/node-keys.ts'

const root = mkdtempSync(join(tmpdir(), 'cairn-promote-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
let n = 0

/** A datadir whose keys/ holds a validator key and a next key. */
function rotating(): { datadir: string; dir: string; old: string; next: string } {
  const datadir = join(root, `d${n++}`)
  const dir = join(datadir, 'keys')
  const old = loadOrCreateKey(join(dir, 'validator.key'), 'validator key').address
  const next = loadOrCreateKey(join(dir, 'validator.next.key'), 'next validator key').address
  return { datadir, dir, old, next }
}

/** File name → content: what the directory holds. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]))
}

const addressIn = (path: string) => loadOrCreateKey(path, 'key').address

describe('promoteNextKeyFile', () => {
  it('makes the next key validator.key and keeps the old one as retired, deleting nothing', () => {
    const { dir, old, next } = rotating()
    const before = snapshot(dir)
    const promoted = promoteNextKeyFile(dir)
    expect(promoted.current.address).toBe(next)
    expect(promoted.retired).toBe(old)
    expect(readdirSync(dir).sort()).toEqual(['validator.key', retiredKeyName(old)].sort())
    expect(addressIn(join(dir, 'validator.key'))).toBe(next)
    expect(addressIn(join(dir, retiredKeyName(old)))).toBe(old)
    // Every key that was there is still there, byte for byte.
    expect(Object.values(snapshot(dir)).sort()).toEqual(Object.values(before).sort())
    for (const f of readdirSync(dir)) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600)
    // A restart loads the new key alone.
    const keys = loadNodeKeys(datadirLayout(join(dir, '..')), { validator: true })
    expect(keys.validator?.current.address).toBe(next)
    expect(keys.validator?.following).toBeNull()
    expect(keys.recovered).toBeNull()
  })

  it('refuses when there is no next key, files other than expected, or a retired file holding another key', () => {
    const lone = join(root, `d${n++}`, 'keys')
    loadOrCreateKey(join(lone, 'validator.key'), 'validator key')
    expect(() => promoteNextKeyFile(lone)).toThrow(expect.objectContaining({ code: 'KEY_PROMOTION_NOTHING' }))

    const a = rotating()
    const before = snapshot(a.dir)
    expect(() => promoteNextKeyFile(a.dir, { current: a.old, next: a.old })).toThrow(
      expect.objectContaining({ code: 'KEY_PROMOTION_CONFLICT' }),
    )
    expect(snapshot(a.dir)).toEqual(before)

    const b = rotating()
    const other = loadOrCreateKey(join(root, `other${n++}.key`), 'key')
    writeFileSync(join(b.dir, retiredKeyName(b.old)), readFileSync(other.path), { mode: 0o600 })
    const withOther = snapshot(b.dir)
    expect(() => promoteNextKeyFile(b.dir)).toThrow(expect.objectContaining({ code: 'KEY_PROMOTION_CONFLICT' }))
    expect(snapshot(b.dir)).toEqual(withOther)
  })
})

describe('a height-scheduled rotation (validator.rotation.json) promotes the same way', () => {
  it('finishes one stopped after the files moved and before its record went', () => {
    const dir = join(root, `d${n++}`, 'keys')
    const old = loadOrCreateKey(join(dir, 'validator.key'), 'validator key').address
    const next = scheduleValidatorRotation(dir, 20n, 10n).next?.key.address
    promoteNextKeyFile(dir) // the files moved; validator.rotation.json still there (the crash)
    const keys = loadValidatorKeys(dir, 25n)
    expect(keys.current.address).toBe(next)
    expect(keys.next).toBeNull()
    expect(readdirSync(dir).sort()).toEqual(['validator.key', retiredKeyName(old)].sort())
  })
})

describe('recoverKeyPromotion at start', () => {
  it('completes a promotion a crash stopped between its two steps (old key under both names)', () => {
    for (const how of ['link', 'copy'] as const) {
      const { datadir, dir, old, next } = rotating()
      // Step 1 done (a second name for the old key), step 2 not: the crash.
      const retired = join(dir, retiredKeyName(old))
      if (how === 'link') linkSync(join(dir, 'validator.key'), retired)
      else writeFileSync(retired, readFileSync(join(dir, 'validator.key')), { mode: 0o600 })
      const keys = loadNodeKeys(datadirLayout(datadir), { validator: true })
      expect(keys.recovered?.current.address, how).toBe(next)
      expect(keys.recovered?.retiredPath, how).toBe(retired)
      expect(keys.validator?.current.address, how).toBe(next)
      expect(keys.validator?.following, how).toBeNull()
      expect(readdirSync(dir).sort(), how).toEqual(['node.key', 'validator.key', retiredKeyName(old)].sort())
      expect(addressIn(retired), how).toBe(old)
      // Done: a second start finds nothing to complete.
      expect(recoverKeyPromotion(dir, { validator: true }), how).toBeNull()
    }
  })

  it('refuses a next key without validator.key instead of creating a new validator key', () => {
    // Moved by hand halfway (mv validator.key validator.retired-….key, then a crash or a stop).
    const a = rotating()
    const retired = join(a.dir, retiredKeyName(a.old))
    writeFileSync(retired, readFileSync(join(a.dir, 'validator.key')), { mode: 0o600 })
    rmSync(join(a.dir, 'validator.key'))
    const before = snapshot(a.dir)
    for (const validator of [true, false]) {
      expect(() => loadNodeKeys(datadirLayout(a.datadir), { validator })).toThrow(
        expect.objectContaining({
          code: 'KEY_PROMOTION_INTERRUPTED',
          message: expect.stringContaining(a.next),
          hint: expect.stringContaining('mv validator.next.key validator.key'),
        }),
      )
    }
    expect(snapshot(a.dir)).toEqual(before)

    // No retired key either: refused when the node wants a validator key (it would make a new one).
    const b = rotating()
    rmSync(join(b.dir, 'validator.key'))
    const alone = snapshot(b.dir)
    expect(() => loadNodeKeys(datadirLayout(b.datadir), { validator: true })).toThrow(
      expect.objectContaining({ code: 'KEY_PROMOTION_INTERRUPTED' }),
    )
    expect(snapshot(b.dir)).toEqual(alone)
    // … and left alone when it does not (a key held by a remote signer, say).
    expect(loadNodeKeys(datadirLayout(b.datadir), { validator: false }).validator).toBeNull()
    expect(readdirSync(b.dir).sort()).toEqual(['node.key', 'validator.next.key'])
  })

  it('does nothing with no next key, or a rotation waiting (no retired file of the current key)', () => {
    const { dir, old, next } = rotating()
    // A retired key of an earlier rotation is not this key's.
    const earlier = loadOrCreateKey(join(root, `earlier${n++}.key`), 'key')
    writeFileSync(join(dir, retiredKeyName(earlier.address)), readFileSync(earlier.path), { mode: 0o600 })
    const before = snapshot(dir)
    expect(recoverKeyPromotion(dir, { validator: true })).toBeNull()
    expect(snapshot(dir)).toEqual(before)
    const keys = loadNodeKeys(datadirLayout(join(dir, '..')), { validator: true })
    expect(keys.validator?.current.address).toBe(old)
    expect(keys.validator?.following?.address).toBe(next)

    const lone = join(root, `d${n++}`, 'keys')
    loadOrCreateKey(join(lone, 'validator.key'), 'validator key')
    expect(recoverKeyPromotion(lone, { validator: true })).toBeNull()
    expect(recoverKeyPromotion(join(root, 'absent', 'keys'), { validator: true })).toBeNull()
  })
})

/**
 * A schedule of four validators (power 10 each) where the staking contract swaps `old` for `next`
 * in block 4, in effect at height 6 (H+2).
 */
function rotatingSchedule(old: string, next: string): ValidatorSchedule {
  const others = ['11', '22', '33'].map((b) => `0x${b.repeat(20)}`)
  return new ValidatorSchedule(
    [old, ...others].map((a) => ({ address: hexToBytes(a), votingPower: 10n })),
    new Map([
      [
        6,
        [
          { address: hexToBytes(old), votingPower: 0n },
          { address: hexToBytes(next), votingPower: 10n },
        ],
      ],
    ]),
  )
}

function recordingLogger() {
  const lines: { level: string; msg: string; fields: Record<string, unknown> }[] = []
  return { lines, logger: writerLogger((level, fields, msg) => lines.push({ level, msg, fields })) }
}

describe('NextKeyPromotion', () => {
  it('promotes once the old key is in no set from the next height on, not while it still is', () => {
    const { dir, old, next } = rotating()
    const schedule = rotatingSchedule(old, next)
    const { lines, logger } = recordingLogger()
    const promotion = new NextKeyPromotion(
      { kind: 'local', keysDir: dir, current: old, next },
      { logger, validatorsAt: (h) => schedule.at(h) },
    )
    const before = snapshot(dir)
    // Heads 0..4: the next height (1..5) still has the old key in its set.
    for (let head = 0n; head <= 4n; head++) {
      expect(promotion.check(head), `head ${head}`).toBe(false)
      expect(snapshot(dir)).toEqual(before)
    }
    expect(lines).toEqual([])
    // Head 5: height 6 has the new key and not the old one.
    expect(promotion.check(5n)).toBe(true)
    expect(addressIn(join(dir, 'validator.key'))).toBe(next)
    expect(addressIn(join(dir, retiredKeyName(old)))).toBe(old)
    expect(readdirSync(dir)).not.toContain('validator.next.key')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({ level: 'info', msg: expect.stringContaining('consensus key promoted') })
    expect(lines[0]?.fields).toMatchObject({ old, new: next, height: 6 })
    // Once.
    expect(promotion.check(6n)).toBe(false)
    expect(lines).toHaveLength(1)
  })

  it('does not promote while the old key is still in the set of the next height, even beside the new one', () => {
    const { dir, old, next } = rotating()
    const others = ['11', '22', '33'].map((b) => hexToBytes(`0x${b.repeat(20)}`))
    // The new key joins at height 4; the old one leaves at 6.
    const schedule = new ValidatorSchedule(
      [hexToBytes(old), ...others].map((address) => ({ address, votingPower: 10n })),
      new Map([
        [4, [{ address: hexToBytes(next), votingPower: 10n }]],
        [6, [{ address: hexToBytes(old), votingPower: 0n }]],
      ]),
    )
    const before = snapshot(dir)
    const promotion = new NextKeyPromotion(
      { kind: 'local', keysDir: dir, current: old, next },
      { logger: recordingLogger().logger, validatorsAt: (h) => schedule.at(h) },
    )
    for (const head of [3n, 4n]) {
      expect(schedule.at(Number(head) + 1).indexOf(hexToBytes(next))).toBeGreaterThanOrEqual(0)
      expect(promotion.check(head), `head ${head}`).toBe(false)
    }
    expect(snapshot(dir)).toEqual(before)
    expect(promotion.check(5n)).toBe(true)
    expect(addressIn(join(dir, 'validator.key'))).toBe(next)
  })

  it('waits while neither key is in the set (the next key not in yet)', () => {
    const { dir, old, next } = rotating()
    const schedule = new ValidatorSchedule(
      ['44', '55'].map((b) => ({ address: hexToBytes(`0x${b.repeat(20)}`), votingPower: 10n })),
    )
    const before = snapshot(dir)
    const promotion = new NextKeyPromotion(
      { kind: 'local', keysDir: dir, current: old, next },
      { logger: recordingLogger().logger, validatorsAt: (h) => schedule.at(h) },
    )
    expect(promotion.check(100n)).toBe(false)
    expect(snapshot(dir)).toEqual(before)
  })

  it('follows new heads off the commit path, and promotes at once when started past the rotation', async () => {
    const a = rotating()
    const schedule = rotatingSchedule(a.old, a.next)
    const events = new TypedEmitter<{ newHead: { block: { header: { number: bigint } } } }>()
    const head = (number: bigint) => ({ header: { number } })
    const { lines, logger } = recordingLogger()
    const promotion = new NextKeyPromotion(
      { kind: 'local', keysDir: a.dir, current: a.old, next: a.next },
      { logger, validatorsAt: (h) => schedule.at(h) },
    )
    const stop = promotion.follow({ head: head(2n), events })
    const tick = () => new Promise((r) => setImmediate(r))
    for (const number of [3n, 4n]) {
      events.emit('newHead', { block: head(number) })
      await tick()
    }
    expect(readdirSync(a.dir)).toContain('validator.next.key')
    events.emit('newHead', { block: head(5n) })
    expect(readdirSync(a.dir)).toContain('validator.next.key') // not within the emit
    await tick()
    expect(addressIn(join(a.dir, 'validator.key'))).toBe(a.next)
    expect(events.listenerCount('newHead')).toBe(0) // done: stopped following
    stop()
    expect(lines.filter((l) => l.level === 'info')).toHaveLength(1)

    // Restarted long after: promoted within follow(), before any new head.
    const b = rotating()
    const later = new NextKeyPromotion(
      { kind: 'local', keysDir: b.dir, current: b.old, next: b.next },
      { logger, validatorsAt: (h) => rotatingSchedule(b.old, b.next).at(h) },
    )
    later.follow({ head: head(1000n), events })
    expect(later.done).toBe(true)
    expect(addressIn(join(b.dir, 'validator.key'))).toBe(b.next)
  })

  it('with a remote signer or an HSM says once which config field to change, and touches no file', () => {
    const { dir, old, next } = rotating()
    const schedule = rotatingSchedule(old, next)
    const before = snapshot(dir)
    const { lines, logger } = recordingLogger()
    const modules = { logger, validatorsAt: (h: number) => schedule.at(h) }
    const signer = { addresses: [hexToBytes(old), hexToBytes(next)] }
    const remote = nextKeyPromotion({ kind: 'remote' }, { local: undefined, external: signer }, modules)
    const hsm = nextKeyPromotion(
      { kind: 'hsm', key: 'node1', nextKey: 'node1-next' },
      { local: undefined, external: signer },
      modules,
    )
    for (const head of [4n, 5n, 6n, 7n]) {
      remote?.check(head)
      hsm?.check(head)
    }
    expect(lines.map((l) => l.level)).toEqual(['warn', 'warn'])
    expect(lines[0]?.msg).toContain(`bft.signer.address = "${next.toLowerCase()}"`)
    expect(lines[0]?.msg).toContain('bft.signer.nextAddress')
    expect(lines[1]?.msg).toContain('bft.signer.key = "node1-next"')
    expect(lines[1]?.msg).toContain('bft.signer.nextKey')
    expect(snapshot(dir)).toEqual(before)
    // No next key: nothing to follow.
    expect(
      nextKeyPromotion({ kind: 'remote' }, { local: undefined, external: { addresses: [hexToBytes(old)] } }, modules),
    ).toBeNull()
  })
})
