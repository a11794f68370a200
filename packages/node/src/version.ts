import { existsSync, readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const pkg = createRequire(import.meta.url)('../package.json') as { version: string }

export const VERSION: string = pkg.version

/** `Cairn/v0.1.0/linux-x64/node20.20.2`, in the shape geth reports. */
export function clientVersion(): string {
  return `Cairn/v${VERSION}/${process.platform}-${process.arch}/node${process.versions.node}`
}

/**
 * What a dev chain's web3_clientVersion answers unless `rpc.clientVersion` says otherwise: Anvil's
 * name and the version whose behaviour Cairn's dev chain matches, then Cairn's own. Tools that ask
 * a dev node what it is before using its test methods (Hardhat 3's network helpers accept a version
 * that starts with anvil, hardhat or zksync; scripts check `startsWith('anvil')`) then work
 * unchanged; the second word says which node it really is. Production and follower nodes answer
 * {@link clientVersion} alone, as geth answers its own.
 */
export function devClientVersion(): string {
  return `anvil/v1.7.1 ${clientVersion()}`
}

/**
 * The git commit this code runs from (`cairn_build_info{commit}`): read from the repository's
 * `.git` (HEAD, then the branch's ref file or packed-refs) without running git; `unknown` when the
 * code is not in a git checkout.
 */
export function buildCommit(from: string = dirname(fileURLToPath(import.meta.url))): string {
  try {
    const gitDir = findGitDir(from)
    if (!gitDir) return 'unknown'
    const head = readFileSync(join(gitDir, 'HEAD'), 'utf8').trim()
    if (/^[0-9a-f]{40,64}$/.test(head)) return head
    const ref = /^ref: (\S+)$/.exec(head)?.[1]
    if (!ref) return 'unknown'
    const common = commonDir(gitDir)
    for (const dir of [gitDir, common]) {
      const file = join(dir, ref)
      if (existsSync(file)) return readFileSync(file, 'utf8').trim()
    }
    const packed = join(common, 'packed-refs')
    if (existsSync(packed)) {
      for (const line of readFileSync(packed, 'utf8').split('\n')) {
        const [hash, name] = line.split(' ')
        if (name === ref && hash) return hash
      }
    }
    return 'unknown'
  } catch {
    return 'unknown'
  }
}

/** The `.git` directory above `from` (a `.git` file, as in worktrees, points to it). */
function findGitDir(from: string): string | undefined {
  let dir = resolve(from)
  for (;;) {
    const candidate = join(dir, '.git')
    if (existsSync(candidate)) {
      if (statSync(candidate).isDirectory()) return candidate
      const pointer = /^gitdir: (.+)$/m.exec(readFileSync(candidate, 'utf8'))?.[1]
      return pointer ? resolve(dir, pointer.trim()) : undefined
    }
    const parent = dirname(dir)
    if (parent === dir) return undefined
    dir = parent
  }
}

/** A worktree's refs live in the main repository (named by its `commondir` file). */
function commonDir(gitDir: string): string {
  const file = join(gitDir, 'commondir')
  return existsSync(file) ? resolve(gitDir, readFileSync(file, 'utf8').trim()) : gitDir
}
