import { readFile } from 'node:fs/promises'
import { build } from 'esbuild'

const verifierEntry = new URL('../verifier/index.ts', import.meta.url).pathname

/**
 * Bundles `entry` for browsers: one dependency-free ESM file (platform `browser`, so any Node-only
 * import fails the build). The page's verifier and the admin console are bundled this way.
 */
export async function bundleForBrowser(entry: string, minify = true): Promise<string> {
  const out = await build({
    entryPoints: [entry],
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

/** The verifier for browsers (its build is the check that the verifier runs anywhere). */
export function bundleVerifier(minify = true): Promise<string> {
  return bundleForBrowser(verifierEntry, minify)
}

/** The static files of the proof-checking page (index.html, page.js). */
export async function pageAsset(name: 'index.html' | 'page.js'): Promise<string> {
  return readFile(new URL(`../../web/${name}`, import.meta.url), 'utf8')
}
