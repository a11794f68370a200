// A package patched by patch-package (patches/<name>+<version>.patch) is pinned to that exact version:
// a range would let a fresh install take a newer release the patch no longer applies to (or applies
// to silently changed code). A workspace that depends on it names the version exactly; one nobody
// depends on directly is fixed by the root's `overrides`.
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const readJson = (p: string) => JSON.parse(readFileSync(p, 'utf8'))

/** `@scope+name+1.2.3.patch` → [`@scope/name`, `1.2.3`]. */
function patched(file: string): [string, string] {
  const m = /^(.+)\+(\d+\.\d+\.\d+[^+]*)\.patch$/.exec(file)
  if (m === null) throw new Error(`patches/${file}: not <name>+<version>.patch`)
  return [(m[1] as string).replace('+', '/'), m[2] as string]
}

describe('patched dependencies', () => {
  const patches = readdirSync(join(ROOT, 'patches'))
    .filter((f) => f.endsWith('.patch'))
    .map(patched)
  const root = readJson(join(ROOT, 'package.json'))
  const manifests = (root.workspaces as string[]).map((w) => ({ at: w, json: readJson(join(ROOT, w, 'package.json')) }))

  it('finds the patches', () => expect(patches.length).toBeGreaterThan(0))

  it.each(patches)('%s is pinned to %s exactly', (name, version) => {
    const specs: string[] = []
    for (const { at, json } of manifests) {
      for (const field of ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies']) {
        const spec = json[field]?.[name]
        if (spec !== undefined) specs.push(`${at} ${field}: ${spec}`)
        if (spec !== undefined) expect(spec, `${at}'s ${field} must name ${name} as "${version}"`).toBe(version)
      }
    }
    if (specs.length === 0) expect(root.overrides?.[name], `add "overrides": { "${name}": "${version}" }`).toBe(version)
    const installed = readJson(join(ROOT, 'node_modules', name, 'package.json')).version
    expect(installed).toBe(version)
  })
})
