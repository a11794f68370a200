import { createHash } from 'node:crypto'
import { createReadStream, readdirSync, statSync } from 'node:fs'
import { join, relative, sep } from 'node:path'

/** A file of a backup: its path relative to the backup's root, size and SHA-256. */
export interface FileDigest {
  path: string
  size: number
  sha256: string
}

/** SHA-256 (hex) of a file, streamed. */
export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256')
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')))
  })
}

/** Every regular file under `dir` (recursively, sorted), with size and SHA-256; paths use `/`. */
export async function digestTree(dir: string, exclude: (path: string) => boolean = () => false): Promise<FileDigest[]> {
  const out: FileDigest[] = []
  const walk = async (d: string): Promise<void> => {
    for (const name of readdirSync(d).sort()) {
      const abs = join(d, name)
      const st = statSync(abs)
      const rel = relative(dir, abs).split(sep).join('/')
      if (exclude(rel)) continue
      if (st.isDirectory()) await walk(abs)
      else if (st.isFile()) out.push({ path: rel, size: st.size, sha256: await sha256File(abs) })
    }
  }
  await walk(dir)
  return out
}

/** One difference between the files listed and the files present. */
export interface FileProblem {
  path: string
  problem: 'missing' | 'size' | 'checksum' | 'unlisted'
  message: string
}

/** Compares the files under `dir` with a list made by {@link digestTree}. */
export async function verifyTree(
  dir: string,
  expected: FileDigest[],
  exclude: (path: string) => boolean = () => false,
): Promise<FileProblem[]> {
  const actual = new Map((await digestTree(dir, exclude)).map((f) => [f.path, f]))
  const problems: FileProblem[] = []
  for (const want of expected) {
    const got = actual.get(want.path)
    actual.delete(want.path)
    if (!got) problems.push({ path: want.path, problem: 'missing', message: `${want.path} is missing` })
    else if (got.size !== want.size) {
      problems.push({
        path: want.path,
        problem: 'size',
        message: `${want.path} has ${got.size} bytes, the manifest says ${want.size}`,
      })
    } else if (got.sha256 !== want.sha256) {
      problems.push({
        path: want.path,
        problem: 'checksum',
        message: `${want.path} does not match its SHA-256 in the manifest`,
      })
    }
  }
  for (const extra of actual.keys()) {
    problems.push({ path: extra, problem: 'unlisted', message: `${extra} is not listed in the manifest` })
  }
  return problems
}
