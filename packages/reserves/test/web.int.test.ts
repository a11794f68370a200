// The browser verifier: bundled by esbuild for platform "browser" (a Node-only import would fail the
// build), then loaded as a standalone ES module (no node_modules, no Node APIs) and run.
import { describe, expect, it } from 'vitest'
import { buildTree } from '../src/tree/build.ts'
import { proofFor } from '../src/tree/proof.ts'
import { bundleVerifier, pageAsset } from '../src/web/bundle.ts'

describe('browser verifier bundle', () => {
  it('is one self-contained ES module that verifies good proofs and flags tampered ones', async () => {
    const js = await bundleVerifier()
    expect(js).not.toMatch(/\bfrom\s*["']/) // no imports left
    expect(js).not.toMatch(/["']node:|\brequire\(/)
    expect(js.length).toBeLessThan(60_000)
    const mod = (await import(`data:text/javascript;base64,${Buffer.from(js).toString('base64')}`)) as {
      verifyProof: (p: unknown, o?: { expectedRoot?: string }) => { ok: boolean; reason?: string }
    }
    for (const hash of ['sha256', 'keccak256'] as const) {
      const tree = buildTree(
        [
          { userId: 'alice', balances: [10n, 0n] },
          { userId: 'bob', balances: [3n, 4n] },
        ],
        {
          hash,
          currencies: [
            { symbol: 'BTC', decimals: 8 },
            { symbol: 'ETH', decimals: 18 },
          ],
          minDepth: 5,
        },
      )
      const proof = proofFor(tree, 's', 'alice')
      expect(mod.verifyProof(proof, { expectedRoot: proof.root.hash })).toMatchObject({ ok: true })
      const tampered = structuredClone(proof)
      tampered.balances.BTC = '11'
      expect(mod.verifyProof(tampered).ok).toBe(false)
    }
  })

  it('the page loads page.js as a module, which imports ./verifier.js and never uses innerHTML', async () => {
    expect(await pageAsset('index.html')).toContain('<script type="module" src="page.js">')
    const page = await pageAsset('page.js')
    expect(page).toContain("from './verifier.js'")
    expect(page).not.toContain('innerHTML')
  })
})
