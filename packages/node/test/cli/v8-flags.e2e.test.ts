// bin/v8-flags.js turns V8's allocation-site pretenuring off at run time. V8 must take the setting
// on the Node running the tests (20, 22 and 24 in CI): with it, V8 makes no pretenuring decision,
// so `--trace-pretenuring-statistics` has nothing to print; the same script without the import
// prints V8's statistics (so the check can fail).
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const FLAGS = fileURLToPath(new URL('../../bin/v8-flags.js', import.meta.url))

/** Objects from one literal, half of them kept until the round ends: what V8's pretenuring watches. */
const script = (withFlags: boolean) => `
${withFlags ? `await import(${JSON.stringify(FLAGS)})` : ''}
const keep = []
function make(i) { return { i, list: [i, i + 1] } }
for (let round = 0; round < 20; round++) {
  for (let i = 0; i < 200000; i++) { const o = make(i); if (i % 2 === 0) keep.push(o) }
  keep.length = 0
}
`

function pretenuringLines(withFlags: boolean): number {
  const r = spawnSync(
    process.execPath,
    ['--trace-pretenuring-statistics', '--input-type=module', '-e', script(withFlags)],
    { encoding: 'utf8', timeout: 60_000 },
  )
  expect(r.status, r.stderr).toBe(0)
  return r.stdout.split('\n').filter((l) => l.includes('pretenuring')).length
}

describe('bin/v8-flags.js', () => {
  it('stops V8 from pretenuring: no decision is made after it is imported', () => {
    expect(pretenuringLines(false)).toBeGreaterThan(0)
    expect(pretenuringLines(true)).toBe(0)
  })
})
