import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

/** Every TypeScript file under `dir`, skipping node_modules and fixtures (the root tests' scans). */
export function tsFiles(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (name === 'node_modules' || name === 'fixtures') continue
    if (statSync(p).isDirectory()) out.push(...tsFiles(p))
    else if (p.endsWith('.ts')) out.push(p)
  }
  return out
}
