// `cairn pow asert` as a user runs it: the real executable, one of the specification's vectors at
// a height past 2^63 (run10's last), and a bad flag refused with exit 2 and one line naming it.
import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { CAIRN_BIN, cleanEnv, REPO_ROOT } from './run-cli.ts'

function cairn(args: string[]) {
  const r = spawnSync(process.execPath, [CAIRN_BIN, 'pow', 'asert', ...args], {
    cwd: REPO_ROOT,
    env: cleanEnv(),
    encoding: 'utf8',
    timeout: 60_000,
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

describe('cairn pow asert (process)', { timeout: 120_000 }, () => {
  it('prints the target of run10’s last vector and exits 0', () => {
    const r = cairn([
      '--anchor-height',
      '9223372036854775802',
      '--anchor-parent-time',
      '2147483047',
      '--anchor-bits',
      '0x1802aee8',
      '--height',
      '9223372036854775812',
      '--time',
      '2147492647',
    ])
    expect(r).toEqual({ code: 0, stdout: '0x1802b73d\n', stderr: '' })
  })

  it('refuses negative anchor bits with exit 2 and says why', () => {
    const r = cairn(
      ['--anchor-height', '1', '--anchor-parent-time', '0', '--anchor-bits', '0x1d80ffff'].concat([
        '--height',
        '2',
        '--time',
        '-5',
      ]),
    )
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(/^error: compact bits 0x1d80ffff are negative .*\n$/)
  })
})
