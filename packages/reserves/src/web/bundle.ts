import { readFile } from 'node:fs/promises'
import { build } from 'esbuild'

const verifierEntry = new URL('../verifier/index.ts', import.meta.url).pathname

/**
 * Bundles the verifier for browsers: one dependency-free ESM file (platform `browser`, so any
 * Node-only import would fail the build — that is the check that the verifier runs anywhere).
 */
export async function bundleVerifier(minify = true): Promise<string> {
  const out = await build({
    entryPoints: [verifierEntry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify,
    write: false,
    logLevel: 'silent',
  })
  return out.outputFiles[0]!.text
}

/** The static files of the proof-checking page (index.html, page.js). */
export async function pageAsset(name: 'index.html' | 'page.js'): Promise<string> {
  return readFile(new URL(`../../web/${name}`, import.meta.url), 'utf8')
}
