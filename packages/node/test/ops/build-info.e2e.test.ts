import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { buildCommit } from '../../src/version.ts'

const A = 'a'.repeat(40)
const B = 'b'.repeat(40)
const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function repo(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'cairn-git-'))
  dirs.push(root)
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true })
    writeFileSync(join(root, path), text)
  }
  mkdirSync(join(root, 'packages/node/src'), { recursive: true })
  return root
}

describe('buildCommit (cairn_build_info{commit})', () => {
  it('is the commit git reports for this checkout', () => {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim()
    expect(buildCommit()).toBe(head)
  })

  it('follows HEAD to a loose ref, to packed-refs, or takes a detached hash', () => {
    const loose = repo({ '.git/HEAD': 'ref: refs/heads/main\n', '.git/refs/heads/main': `${A}\n` })
    expect(buildCommit(join(loose, 'packages/node/src'))).toBe(A)
    const packed = repo({
      '.git/HEAD': 'ref: refs/heads/release\n',
      '.git/packed-refs': `# pack-refs with: peeled fully-peeled sorted\n${A} refs/heads/main\n${B} refs/heads/release\n`,
    })
    expect(buildCommit(join(packed, 'packages/node/src'))).toBe(B)
    const detached = repo({ '.git/HEAD': `${B}\n` })
    expect(buildCommit(join(detached, 'packages/node/src'))).toBe(B)
  })

  it('reads a worktree through its .git file and commondir', () => {
    const main = repo({ '.git/refs/heads/feature': `${A}\n`, '.git/worktrees/wt/HEAD': 'ref: refs/heads/feature\n' })
    writeFileSync(join(main, '.git/worktrees/wt/commondir'), '../..\n')
    const wt = repo({ '.git': `gitdir: ${join(main, '.git/worktrees/wt')}\n` })
    expect(buildCommit(join(wt, 'packages/node/src'))).toBe(A)
  })

  it('is "unknown" outside a git checkout or with a dangling ref', () => {
    const none = mkdtempSync(join(tmpdir(), 'cairn-nogit-'))
    dirs.push(none)
    expect(buildCommit(none)).toBe('unknown')
    const dangling = repo({ '.git/HEAD': 'ref: refs/heads/gone\n' })
    expect(buildCommit(join(dangling, 'packages/node/src'))).toBe('unknown')
  })
})
