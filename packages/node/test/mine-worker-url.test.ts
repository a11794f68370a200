// The mining threads' entry: from the bundle, dist/mine-worker.js (what bundle.ts builds) whether
// the code asking sits in dist/start.js or in a chunk; from the sources, MinerPool's own.
import { describe, expect, it } from 'vitest'
import { mineWorkerUrl } from '../src/mine-worker-url.ts'

describe('mineWorkerUrl', () => {
  it('is dist/mine-worker.js from the bundle, and MinerPool’s default from the sources', () => {
    expect(mineWorkerUrl('file:///opt/cairn/packages/node/dist/chunks/engine-ABC123.js')?.href).toBe(
      'file:///opt/cairn/packages/node/dist/mine-worker.js',
    )
    expect(mineWorkerUrl('file:///opt/cairn/packages/node/dist/start.js')?.href).toBe(
      'file:///opt/cairn/packages/node/dist/mine-worker.js',
    )
    expect(mineWorkerUrl('file:///work/packages/node/src/engine.ts')).toBeUndefined()
    expect(mineWorkerUrl()).toBeUndefined() // this test runs the sources
  })
})
