import { readFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'

/** One recorded exchange file (`tests/<method>/<case>.io`), as hive's rpc-compat reads it. */
export interface RpcCase {
  /** `<method>/<case>`. */
  name: string
  /** The header's `//` lines. */
  comment: string
  /** A `// speconly:` header: a result is only checked against the method's OpenRPC result schema. */
  speconly: boolean
  /** `>>` requests and `<<` expected responses, in file order (JSON text, trimmed). */
  messages: { send: boolean; data: string }[]
}

/** The vendored bundle (`fixtures/cases.json.gz`): cases in hive's order, and those whose file was absent. */
export interface CaseBundle {
  source: { repo: string; commit: string }
  cases: RpcCase[]
  missing: { name: string; why: string }[]
}

export function loadCaseBundle(path: string): CaseBundle {
  const raw = JSON.parse(gunzipSync(readFileSync(path)).toString('utf8')) as {
    source: { repo: string; commit: string }
    cases: ({ name: string; text: string } | { name: string; missing: string })[]
  }
  const cases: RpcCase[] = []
  const missing: { name: string; why: string }[] = []
  for (const c of raw.cases) {
    if ('missing' in c) missing.push({ name: c.name, why: c.missing })
    else cases.push(parseCase(c.name, c.text))
  }
  return { source: raw.source, cases, missing }
}

/**
 * Parses an `.io` file: blank lines skipped; `//` lines before the first message are the comment
 * (one starting `speconly:` marks the case), later ones ignored; `>> json` and `<< json` are
 * messages; anything else is an error.
 */
export function parseCase(name: string, text: string): RpcCase {
  const test: RpcCase = { name, comment: '', speconly: false, messages: [] }
  let inHeader = true
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim()
    if (line === '') continue
    if (line.startsWith('//')) {
      if (!inHeader) continue
      const comment = line.slice(2).replace(/^ /, '')
      test.comment += `${comment}\n`
      if (comment.startsWith('speconly:')) test.speconly = true
    } else if (line.startsWith('>>') || line.startsWith('<<')) {
      inHeader = false
      const data = line.slice(2).trim()
      JSON.parse(data) // a case with invalid JSON is a broken fixture: throw
      test.messages.push({ send: line.startsWith('>>'), data })
    } else {
      throw new Error(`${name}: invalid test line ${JSON.stringify(line.slice(0, 80))}`)
    }
  }
  return test
}
