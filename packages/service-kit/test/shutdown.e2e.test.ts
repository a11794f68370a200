// Shutdown holds the process open until its last step: a step waiting on an unref'd handle used
// to let Node exit with code 0 half-way (no database close, no "stopped cleanly").
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const FIXTURE = fileURLToPath(new URL('./fixtures/shutdown-unref.ts', import.meta.url))

describe('Shutdown', () => {
  it('runs every step and returns, even when a step waits on an unref’d handle', () => {
    const res = spawnSync(process.execPath, ['--import', 'tsx', FIXTURE], { encoding: 'utf8', timeout: 30_000 })
    expect(res.status).toBe(0)
    expect(res.stdout).toBe('database closed\nstopped cleanly\n')
  }, 40_000)
})
