import { readFile } from 'node:fs/promises'
import { build } from 'esbuild'

const entry = new URL('./ui/main.ts', import.meta.url).pathname

/**
 * Bundles the console for browsers, as the page's verifier is bundled (web/bundle.ts): one
 * dependency-free ESM file, platform `browser` (a Node-only import fails the build).
 */
export async function bundleConsole(minify = true): Promise<string> {
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

/** The console's static files. */
export async function consoleAsset(name: 'index.html' | 'app.css'): Promise<string> {
  return readFile(new URL(`./assets/${name}`, import.meta.url), 'utf8')
}
