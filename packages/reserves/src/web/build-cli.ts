// Writes web/dist/verifier.js so the page can be hosted as static files (npm run build:web -w @cairn/reserves).
import { mkdirSync, writeFileSync } from 'node:fs'
import { bundleVerifier } from './bundle.ts'

const dir = new URL('../../web/dist/', import.meta.url)
mkdirSync(dir, { recursive: true })
writeFileSync(new URL('verifier.js', dir), await bundleVerifier())
process.stdout.write(`wrote ${new URL('verifier.js', dir).pathname}\n`)
