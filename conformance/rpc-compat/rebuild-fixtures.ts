/**
 * Rebuilds `fixtures/` from a git copy of ethereum/execution-apis at a named commit:
 *
 *   node --import tsx conformance/rpc-compat/rebuild-fixtures.ts <git-dir> [commit]
 *
 * (`<git-dir>` is a clone's `.git` or a bare mirror.) Writes, byte for byte as upstream,
 * `genesis.json`, `chain.rlp` and `headfcu.json` from `tests/`; every `tests/<method>/<case>.io`
 * into `cases.json.gz`; and the result schema of every method, built from `src/` as the repo's
 * `make build` (specgen -deref) builds `openrpc.json`, into `openrpc-results.json.gz`. A `.io`
 * file whose content the copy does not hold is recorded as missing (the runner reports it as
 * skipped, with the reason).
 */
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { gzipSync } from 'node:zlib'
import { buildResultSchemas } from './openrpc.ts'

export const UPSTREAM = 'ethereum/execution-apis'
export const DEFAULT_COMMIT = '033ca6e69da000445840d2060ff47e5e56172a86'

/** As execution-apis' Makefile (SPECFLAGS) lists them. */
const SCHEMA_DIRS = ['src/schemas', 'src/engine/openrpc/schemas']
const METHOD_DIRS = ['src/eth', 'src/debug', 'src/txpool', 'src/engine/openrpc/methods', 'src/testing']

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures')

function main(): void {
  const [gitDir, commit = DEFAULT_COMMIT] = process.argv.slice(2)
  if (gitDir === undefined) {
    process.stderr.write('usage: rebuild-fixtures.ts <execution-apis git dir> [commit]\n')
    process.exit(2)
  }
  const git = (args: string[]): Buffer => execFileSync('git', ['--git-dir', gitDir, ...args], { maxBuffer: 1 << 28 })
  const files = (under: string): { path: string; blob: string }[] =>
    git(['ls-tree', '-r', commit, '--', under])
      .toString()
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [meta = '', path = ''] = line.split('\t')
        return { path, blob: meta.split(' ')[2] ?? '' }
      })
      .sort((a, b) => walkOrder(a.path, b.path))
  const blob = (sha: string): Buffer | undefined => {
    try {
      return execFileSync('git', ['--git-dir', gitDir, 'cat-file', 'blob', sha], {
        maxBuffer: 1 << 28,
        stdio: ['ignore', 'pipe', 'ignore'],
      })
    } catch {
      return undefined
    }
  }

  for (const name of ['genesis.json', 'chain.rlp', 'headfcu.json']) {
    const content = git(['show', `${commit}:tests/${name}`])
    writeFileSync(join(FIXTURES, name), content)
  }

  const cases = files('tests')
    .filter((f) => f.path.endsWith('.io'))
    .map((f) => {
      const name = f.path.slice('tests/'.length, -'.io'.length)
      const content = blob(f.blob)
      return content === undefined
        ? { name, missing: `blob ${f.blob} is absent from the git copy this was rebuilt from` }
        : { name, text: content.toString('utf8') }
    })
  const source = { repo: UPSTREAM, commit }
  writeGz('cases.json.gz', { source, cases })

  const yamlOf = (dirs: string[]) =>
    dirs.flatMap((d) =>
      files(d)
        .filter((f) => f.path.endsWith('.yaml'))
        .map((f) => git(['show', `${commit}:${f.path}`]).toString('utf8')),
    )
  const methods = buildResultSchemas(yamlOf(METHOD_DIRS), yamlOf(SCHEMA_DIRS))
  writeGz('openrpc-results.json.gz', { source, methods })

  const missing = cases.filter((c) => 'missing' in c).map((c) => c.name)
  process.stdout.write(
    `${cases.length} cases (${missing.length} missing${missing.length ? `: ${missing.join(', ')}` : ''}), ` +
      `${Object.keys(methods).length} result schemas, from ${UPSTREAM}@${commit}\n`,
  )
}

/** Go's filepath.Walk order (each directory's entries by name, in bytes): hive replays the cases in it. */
export function walkOrder(a: string, b: string): number {
  const x = a.split('/')
  const y = b.split('/')
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const c = Buffer.compare(Buffer.from(x[i] ?? ''), Buffer.from(y[i] ?? ''))
    if (c !== 0) return c
  }
  return x.length - y.length
}

function writeGz(name: string, value: unknown): void {
  writeFileSync(join(FIXTURES, name), gzipSync(`${JSON.stringify(value)}\n`, { level: 9 }))
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main()
