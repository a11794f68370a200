import { readFile } from 'node:fs/promises'
import { bundleForBrowser } from '@cairn/reserves/web'

const entry = new URL('./ui/main.ts', import.meta.url).pathname

/** Bundles the console for browsers, as the page's verifier is bundled (web/bundle.ts). */
export function bundleConsole(minify = true): Promise<string> {
  return bundleForBrowser(entry, minify)
}

/** The console's static files. */
export async function consoleAsset(name: 'index.html' | 'app.css'): Promise<string> {
  return readFile(new URL(`./assets/${name}`, import.meta.url), 'utf8')
}
