// The secrets kit on real files: owner-only files (and the refusal of others), env, the age
// bundles, and rotation without a restart — a file replaced in place, a Kubernetes Secret volume
// swapped the way the kubelet swaps it (a new timestamped directory behind the `..data` symlink).
import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { armor, Encrypter, generateIdentity, identityToRecipient } from 'age-encryption'
import { afterAll, describe, expect, it } from 'vitest'
import { Secrets, secretFileModeProblem } from '../../src/index.ts'

const dir = mkdtempSync(join(tmpdir(), 'cairn-secrets-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const text = (b: Uint8Array) => new TextDecoder().decode(b)

function file(name: string, content: string, mode = 0o600): string {
  const p = join(dir, name)
  writeFileSync(p, content, { mode })
  chmodSync(p, mode) // the umask may have taken bits away
  return p
}

/** Waits for `cond` (checked every 10 ms), failing after `ms`: the watchers poll every 20 ms. */
async function until(cond: () => boolean, what: string, ms = 5_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

async function rejection(p: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await p
  } catch (err) {
    return err as { code?: string; message: string }
  }
  throw new Error('expected a rejection')
}

describe('Secrets: one face for files, env and age bundles', () => {
  it('reads an owner-only file, and refuses one that group or others may read or write, naming mode and path', async () => {
    const s = new Secrets()
    expect(text(await s.read(file('jwt', 'abc\n'), '--jwt-secret-file'))).toBe('abc\n')
    expect(await s.readText(`file:${join(dir, 'jwt')}`, '--jwt-secret-file')).toBe('abc')
    for (const mode of [0o644, 0o640, 0o604, 0o620]) {
      const p = file(`open-${mode.toString(8)}`, 'abc', mode)
      const err = await rejection(s.read(p, '--jwt-secret-file'))
      expect(err.code).toBe('SERVICE_SECRET_FILE_PERMISSIONS')
      expect(err.message).toContain(`${p} has mode 0${mode.toString(8)}`)
      expect(err.message).not.toContain('abc')
    }
    expect((await rejection(s.read(join(dir, 'missing'), 'x'))).code).toBe('SERVICE_SECRET_UNREADABLE')
    expect((await rejection(s.read(file('empty', ''), 'x'))).message).toMatch(/is empty/)
  })

  it("follows PostgreSQL's rule for owner and mode: a root-owned file may be read by its group (a Kubernetes Secret under fsGroup)", () => {
    const pod = 10001
    // mounted on a non-root pod with fsGroup: root-owned, the kubelet adds group read (0440)
    for (const mode of [0o400, 0o440, 0o640, 0o600]) expect(secretFileModeProblem({ mode, uid: 0 }, pod)).toBeNull()
    expect(secretFileModeProblem({ mode: 0o460, uid: 0 }, pod)).toMatch(/group can write/)
    expect(secretFileModeProblem({ mode: 0o444, uid: 0 }, pod)).toMatch(/other users/)
    expect(secretFileModeProblem({ mode: 0o402, uid: 0 }, pod)).toMatch(/other users/)
    // the reader's own file: owner only
    expect(secretFileModeProblem({ mode: 0o600, uid: pod }, pod)).toBeNull()
    expect(secretFileModeProblem({ mode: 0o440, uid: pod }, pod)).toMatch(/users in its group/)
    // root reading root's file: owner only too
    expect(secretFileModeProblem({ mode: 0o640, uid: 0 }, 0)).toMatch(/users in its group/)
    // another user's file, group-readable: refused (only root's files get the group's read)
    expect(secretFileModeProblem({ mode: 0o440, uid: 1000 }, pod)).toMatch(/users in its group/)
  })

  it('reads env: from the environment it was given; a URL in the clear stays itself; an unknown scheme is refused', async () => {
    const s = new Secrets({ env: { DB: 'postgres://u:pw@db/x', EMPTY: '' } })
    expect(await s.resolve('env:DB', '--database-url')).toBe('postgres://u:pw@db/x')
    expect(await s.resolve('postgres://u:pw@db/x', '--database-url')).toBe('postgres://u:pw@db/x')
    expect(await s.resolve(file('db-url', 'postgres://file/x\n'), '--database-url')).toBe(
      join(dir, 'db-url'), // a plain value of a URL flag is not read as a path
    )
    expect(await s.resolve(`file:${join(dir, 'db-url')}`, '--database-url')).toBe('postgres://file/x')
    expect((await rejection(s.read('env:EMPTY', '--x'))).message).toMatch(/env:EMPTY is not set/)
    expect((await rejection(s.read('env:NOPE', '--x'))).code).toBe('SERVICE_SECRET_UNREADABLE')
    expect((await rejection(s.read('vault:secret/data/x', '--x'))).message).toMatch(/no secrets provider for vault:/)
    expect(s.rotates('env:DB')).toBe(false)
    expect(s.rotates(join(dir, 'jwt'))).toBe(true)
  })

  it('decrypts an age bundle (armored or binary) with an owner-only identity; refuses a wrong or open identity', async () => {
    const identity = await generateIdentity()
    const e = new Encrypter()
    e.addRecipient(await identityToRecipient(identity))
    const bundle = JSON.stringify({ jwt: 'j'.repeat(40), 'db-url': 'postgres://a:b@c/d' })
    writeFileSync(join(dir, 'bundle.age'), armor.encode(await e.encrypt(bundle)))
    writeFileSync(join(dir, 'env.age'), await e.encrypt('API_KEY=k1\n# comment\nWEBHOOK="w2"\n'))
    const idFile = file('identity.txt', `# created: now\n${identity}\n`)
    const s = new Secrets({ ageIdentityFiles: [idFile] })
    expect(await s.readText(`age:${join(dir, 'bundle.age')}#jwt`, '--jwt-secret-file')).toBe('j'.repeat(40))
    expect(await s.resolve(`age:${join(dir, 'bundle.age')}#db-url`, '--database-url')).toBe('postgres://a:b@c/d')
    expect(await s.readText(`age:${join(dir, 'env.age')}#WEBHOOK`, 'x')).toBe('w2')
    expect(await s.readText(`age:${join(dir, 'env.age')}`, 'x')).toMatch(/^API_KEY=k1/)
    expect((await rejection(s.read(`age:${join(dir, 'env.age')}#NOPE`, 'x'))).message).toMatch(/no entry NOPE/)

    const other = file('other.txt', `${await generateIdentity()}\n`)
    const wrong = await rejection(
      new Secrets({ ageIdentityFiles: [other] }).read(`age:${join(dir, 'bundle.age')}#jwt`, 'x'),
    )
    expect(wrong.message).toMatch(/cannot decrypt/)
    chmodSync(idFile, 0o644)
    expect((await rejection(s.read(`age:${join(dir, 'env.age')}#API_KEY`, 'x'))).code).toBe(
      'SERVICE_SECRET_FILE_PERMISSIONS',
    )
    chmodSync(idFile, 0o600)
    expect((await rejection(new Secrets().read(`age:${join(dir, 'env.age')}`, 'x'))).message).toMatch(
      /needs an age identity/,
    )
  })
})

describe('Secrets.watch: rotation without a restart', () => {
  it('hands over a file replaced in place; keeps the old value while the new one is world-readable', async () => {
    const s = new Secrets({ pollMs: 20 })
    const p = file('rotating', 'one')
    const seen: string[] = []
    const w = s.watch(p, '--jwt-secret-file', await s.read(p, 'x'), (b) => void seen.push(text(b)))
    try {
      writeFileSync(`${p}.tmp`, 'two', { mode: 0o600 })
      renameSync(`${p}.tmp`, p)
      await until(() => seen.length === 1, 'the rotation')
      expect(seen).toEqual(['two'])
      chmodSync(p, 0o644)
      writeFileSync(p, 'three') // a careless copy: refused, 'two' stays in force
      await new Promise((r) => setTimeout(r, 200))
      expect(seen).toEqual(['two'])
      chmodSync(p, 0o600)
      await until(() => seen.length === 2, 'the rotation once the mode is fixed')
      expect(seen).toEqual(['two', 'three'])
    } finally {
      w.stop()
    }
  })

  it("follows a Kubernetes Secret volume through the kubelet's atomic swap of ..data", async () => {
    // the kubelet's AtomicWriter: KEY -> ..data/KEY, ..data -> ..<timestamp>; an update writes a new
    // timestamped directory, points ..data_tmp at it and renames ..data_tmp over ..data
    const vol = join(dir, 'k8s-volume')
    mkdirSync(join(vol, '..2026_01_01_00_00_00.1'), { recursive: true })
    writeFileSync(join(vol, '..2026_01_01_00_00_00.1', 'jwt'), 'old-secret', { mode: 0o400 })
    symlinkSync('..2026_01_01_00_00_00.1', join(vol, '..data'))
    symlinkSync('..data/jwt', join(vol, 'jwt'))
    const s = new Secrets({ pollMs: 20 })
    const ref = join(vol, 'jwt')
    expect(await s.readText(ref, 'x')).toBe('old-secret')
    const seen: string[] = []
    const w = s.watch(ref, 'x', await s.read(ref, 'x'), (b) => void seen.push(text(b)))
    try {
      mkdirSync(join(vol, '..2026_01_01_00_01_00.2'))
      writeFileSync(join(vol, '..2026_01_01_00_01_00.2', 'jwt'), 'new-secret', { mode: 0o400 })
      symlinkSync('..2026_01_01_00_01_00.2', join(vol, '..data_tmp'))
      renameSync(join(vol, '..data_tmp'), join(vol, '..data'))
      rmSync(join(vol, '..2026_01_01_00_00_00.1'), { recursive: true })
      await until(() => seen.length === 1, 'the swapped secret')
      expect(seen).toEqual(['new-secret'])
    } finally {
      w.stop()
    }
  })

  it('does not poll a value that cannot rotate (env:)', async () => {
    const s = new Secrets({ env: { X: 'a' }, pollMs: 5 })
    let calls = 0
    s.watch('env:X', 'x', new Uint8Array([1]), () => void calls++).stop()
    await new Promise((r) => setTimeout(r, 50))
    expect(calls).toBe(0)
  })
})
