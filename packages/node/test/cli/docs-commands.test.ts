// Every `cairn …` command line the docs show names a command and flags that exist: the docs are
// checked against the real command tree (every command's module loaded), so a renamed or removed
// flag fails here instead of in a user's terminal.
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import type { Command } from 'commander'
import { describe, expect, it } from 'vitest'
import { buildFullProgram } from '../../src/cli/program.ts'

const ROOT = join(import.meta.dirname, '../../../..')

function markdownFiles(): string[] {
  const out = [join(ROOT, 'README.md'), join(ROOT, 'deploy/README.md')]
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name))
      else if (e.name.endsWith('.md')) out.push(join(dir, e.name))
    }
  }
  walk(join(ROOT, 'docs'))
  for (const pkg of readdirSync(join(ROOT, 'packages'))) out.push(join(ROOT, 'packages', pkg, 'README.md'))
  return out.filter((f) => {
    try {
      readFileSync(f)
      return true
    } catch {
      return false
    }
  })
}

/** The long flags a command accepts (`--no-x` for a negatable `--x`), with help and version. */
function flagsOf(cmd: Command, program: Command): Set<string> {
  const flags = new Set(['--help'])
  for (const c of [cmd, program])
    for (const o of c.options) {
      if (o.long) flags.add(o.long)
      if (o.negate && o.long) flags.add(o.long.replace(/^--no-/, '--'))
    }
  return flags
}

interface Use {
  file: string
  line: number
  text: string
}

/** Each `cairn …` invocation on a line, cut at the end of its command (a backtick, pipe, `&&`, `;`, `#`). */
function invocations(file: string): Use[] {
  const uses: Use[] = []
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      for (const m of line.matchAll(/(?:^|[\s`(])(?:npx )?cairn((?: +[^\s`|;#&)]+)*)/g)) {
        uses.push({ file: relative(ROOT, file), line: i + 1, text: `cairn${m[1] ?? ''}` })
      }
    })
  return uses
}

describe('the docs name only commands and flags that exist', async () => {
  const program = await buildFullProgram()
  const uses = markdownFiles().flatMap(invocations)

  it('finds the docs’ command lines', () => {
    expect(uses.length).toBeGreaterThan(40)
  })

  it('every `cairn <command> --flag` resolves', () => {
    const problems: string[] = []
    for (const use of uses) {
      const words = use.text.split(/ +/).slice(1)
      let cmd: Command = program
      let i = 0
      for (; i < words.length; i++) {
        const sub = cmd.commands.find((c) => c.name() === words[i] || c.aliases().includes(words[i] ?? ''))
        if (!sub) break
        cmd = sub
      }
      const where = `${use.file}:${use.line}: ${use.text}`
      // a word right after `cairn` (or after a command group) that is no command is a wrong name
      const next = words[i]
      if (cmd.commands.length > 0 && next !== undefined && /^[a-z][a-z-]*$/.test(next) && cmd === program) {
        problems.push(`${where} — no command "${next}"`)
        continue
      }
      const flags = flagsOf(cmd, program)
      for (const w of words.slice(i)) {
        const flag = /^(--[a-z][a-z0-9.-]*)/.exec(w)?.[1]
        if (flag && !flags.has(flag)) problems.push(`${where} — "${cmd.name()}" has no ${flag}`)
      }
    }
    expect(problems).toEqual([])
  })
})
