// Writes docs/reserves/vectors.json (run: node --import tsx packages/reserves/src/vectors-cli.ts).
import { writeFileSync } from 'node:fs'
import { generateVectors } from './vectors.ts'

const target = new URL('../../../docs/reserves/vectors.json', import.meta.url)
writeFileSync(target, `${JSON.stringify(generateVectors(), null, 2)}\n`)
process.stdout.write(`wrote ${target.pathname}\n`)
