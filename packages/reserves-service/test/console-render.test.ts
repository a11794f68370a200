// The console's rendering and formatting helpers, without a browser: the markup builder on a stub
// document (serialized the way a browser serializes: text escaped), the CSV export, amounts and
// ratios, the audit search. The browser half is console.e2e.test.ts.
import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  auditCsv,
  csvCell,
  matchesAudit,
  NO_FILTER,
  scanAudit,
  utcFromField,
} from '../src/features/console/ui/audit-filter.ts'
import {
  type DomDocument,
  type DomElement,
  type DomEvent,
  type DomNode,
  makeUi,
} from '../src/features/console/ui/dom.ts'
import { formatProgress, formatRatio, formatUnits, shortHash } from '../src/features/console/ui/format.ts'
import type { AuditEntry } from '../src/kernel/audit.ts'

class StubText implements DomNode {
  readonly nodeType = 3
  constructor(readonly data: string) {}
}

class StubElement implements DomElement {
  readonly nodeType = 1
  readonly children: (StubElement | StubText)[] = []
  readonly attributes = new Map<string, string>()
  readonly listeners = new Map<string, ((e: DomEvent) => void)[]>()
  hidden = false
  constructor(readonly tag: string) {}
  appendChild(child: DomNode) {
    this.children.push(child as StubElement | StubText)
    return child
  }
  replaceChildren(...nodes: DomNode[]) {
    this.children.splice(0, this.children.length, ...(nodes as (StubElement | StubText)[]))
  }
  setAttribute(name: string, value: string) {
    this.attributes.set(name, value)
  }
  removeAttribute(name: string) {
    this.attributes.delete(name)
  }
  addEventListener(type: string, fn: (e: DomEvent) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn])
  }
  get textContent(): string {
    return this.children.map((c) => (c instanceof StubText ? c.data : c.textContent)).join('')
  }
  set textContent(_v: string | null) {
    throw new Error('the builder never sets textContent')
  }
  focus() {}
  click() {}
  remove() {}
  querySelector(): DomElement | null {
    return null
  }
}

const stubDocument: DomDocument = {
  createElement: (tag) => new StubElement(tag),
  createTextNode: (text) => new StubText(text),
}

const escapeText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
const escapeAttr = (s: string) => escapeText(s).replace(/"/g, '&quot;')

/** HTML as a browser serializes the tree (the HTML spec's fragment serialization). */
function serialize(n: StubElement | StubText): string {
  if (n instanceof StubText) return escapeText(n.data)
  const attrs = [...n.attributes].map(([k, v]) => ` ${k}="${escapeAttr(v)}"`).join('')
  return `<${n.tag}${attrs}>${n.children.map(serialize).join('')}</${n.tag}>`
}

/** Every element in the tree, depth first. */
function elements(n: StubElement): StubElement[] {
  return [n, ...n.children.flatMap((c) => (c instanceof StubElement ? elements(c) : []))]
}

describe('the console markup builder', () => {
  const { h, fill } = makeUi(stubDocument)

  it('renders a value holding <script> as text, never as an element', () => {
    const hostile = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    const cell = h('td', { title: `"><script>alert(3)</script>` }, hostile) as StubElement
    expect(elements(cell).map((e) => e.tag)).toEqual(['td'])
    expect(cell.children).toHaveLength(1)
    expect(cell.children[0]).toBeInstanceOf(StubText)
    expect(cell.textContent).toBe(hostile)
    expect(serialize(cell)).toBe(
      '<td title="&quot;&gt;&lt;script&gt;alert(3)&lt;/script&gt;">' +
        '&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;</td>',
    )
  })

  it('nests elements, flattens arrays, shows numbers and bigints, skips null, undefined and false', () => {
    const list = h(
      'ul',
      null,
      [1, 2n].map((v) => h('li', null, v)),
      null,
      undefined,
      false,
      'end',
    ) as StubElement
    expect(serialize(list)).toBe('<ul><li>1</li><li>2</li>end</ul>')
    fill(list, 'only')
    expect(serialize(list)).toBe('<ul>only</ul>')
  })

  it('takes listeners only as functions, refuses handler attributes as text and script URLs', () => {
    const clicks: string[] = []
    const b = h('button', { type: 'button', onclick: () => clicks.push('x') }, 'Go') as StubElement
    for (const fn of b.listeners.get('click') ?? []) fn({ preventDefault() {} })
    expect(clicks).toEqual(['x'])
    expect(b.attributes.has('onclick')).toBe(false)
    expect(() => h('button', { onclick: 'alert(1)' })).toThrow(/not allowed/)
    expect(() => h('a', { href: 'javascript:alert(1)' })).toThrow(/not a relative, http\(s\) or blob URL/)
    expect(() => h('a', { href: ' JavaScript:alert(1)' })).toThrow(/URL/)
    expect(() => h('img', { src: 'data:text/html,<script>' })).toThrow(/URL/)
    expect(() => h('a', { 'x"y': '1' })).toThrow(/not allowed/)
    expect(() => h('scr ipt')).toThrow(/not an element name/)
    for (const ok of ['#audit', 'blob:http://127.0.0.1/abc', 'https://example.com/x', '../v1/docs', 'app.css'])
      expect((h('a', { href: ok }) as StubElement).attributes.get('href')).toBe(ok)
  })

  it('sets boolean attributes present or absent', () => {
    const input = h('input', { required: true, disabled: false, hidden: null }) as StubElement
    expect([...input.attributes]).toEqual([['required', '']])
  })

  it('the console sources never write markup from strings', () => {
    const dir = new URL('../src/features/console/ui/', import.meta.url)
    const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'))
    expect(files.length).toBeGreaterThan(5)
    for (const f of files) {
      // the code, without its comments (which may name what it avoids)
      const src = readFileSync(new URL(f, dir), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/^\s*\/\/.*$/gm, '')
      expect(src, f).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/)
    }
  })
})

const entry = (seq: number, over: Partial<AuditEntry> = {}): AuditEntry => ({
  seq,
  at: `2026-11-28T06:${String(seq).padStart(2, '0')}:00.000Z`,
  actor: 'ops',
  role: 'admin',
  action: 'snapshot.created',
  details: { id: 's1' },
  prevHash: `0x${'00'.repeat(32)}`,
  hash: `0x${'11'.repeat(32)}`,
  ...over,
})

describe('the audit export and search', () => {
  it('quotes CSV cells that need it and defuses spreadsheet formulas', () => {
    expect(csvCell('plain')).toBe('plain')
    expect(csvCell('a,b')).toBe('"a,b"')
    expect(csvCell('say "hi"')).toBe('"say ""hi"""')
    expect(csvCell('two\nlines')).toBe('"two\nlines"')
    expect(csvCell('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`)
    expect(csvCell('+1')).toBe("'+1")
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)")
    expect(csvCell(-5)).toBe('-5')
  })

  it('writes a header and one row per entry, details as JSON, CRLF line ends', () => {
    const csv = auditCsv([entry(1, { actor: '<script>x</script>', details: { url: 'https://a,b', n: 1 } })])
    expect(csv).toBe(
      'seq,at,actor,role,action,details,prevHash,hash\r\n' +
        `1,2026-11-28T06:01:00.000Z,<script>x</script>,admin,snapshot.created,"{""url"":""https://a,b"",""n"":1}",0x${'00'.repeat(32)},0x${'11'.repeat(32)}\r\n`,
    )
  })

  it('matches by actor and action substrings (any case) and an inclusive UTC time window', () => {
    const log = [
      entry(1),
      entry(2, { actor: 'KPMG-auditor', role: 'auditor', action: 'proof.read' }),
      entry(3, { action: 'webhook.created' }),
      entry(4, { action: 'webhook.deleted' }),
    ]
    const seqs = (f: Partial<typeof NO_FILTER>) =>
      log.filter((e) => matchesAudit(e, { ...NO_FILTER, ...f })).map((e) => e.seq)
    expect(seqs({})).toEqual([1, 2, 3, 4])
    expect(seqs({ actor: 'kpmg' })).toEqual([2])
    expect(seqs({ action: 'WEBHOOK.' })).toEqual([3, 4])
    expect(seqs({ from: utcFromField('2026-11-28T06:02'), to: utcFromField('2026-11-28T06:03') })).toEqual([2, 3])
    expect(utcFromField('')).toBeNull()
    expect(utcFromField('2026-11-28T06:02+01:00')).toBe('2026-11-28T05:02:00.000Z')
    expect(() => utcFromField('yesterday')).toThrow(/not a date and time/)
  })
})

describe('the audit scan (search pages and exports through GET /v1/audit)', () => {
  // 2,500 entries a minute apart; every seventh is a webhook change
  const log = Array.from({ length: 2500 }, (_, i) =>
    entry(i + 1, {
      at: new Date(Date.UTC(2026, 10, 1) + i * 60_000).toISOString(),
      action: (i + 1) % 7 === 0 ? 'webhook.updated' : 'proof.read',
    }),
  )
  const reads: number[] = []
  const read = async (after: number, limit: number) => {
    reads.push(after)
    return log.filter((e) => e.seq > after).slice(0, limit)
  }
  const hooks = { ...NO_FILTER, action: 'webhook.' }

  it('pages through the matches across batches, each page starting after the last one', async () => {
    reads.length = 0
    const first = await scanAudit(read, hooks, 0, 50, 100)
    expect(first.entries.map((e) => e.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 7 * (i + 1)))
    expect(first).toMatchObject({ last: 350, more: true })
    expect(reads).toEqual([0, 100, 200, 300])
    const seen: number[] = first.entries.map((e) => e.seq)
    let page = first
    while (page.more) {
      page = await scanAudit(read, hooks, page.last, 50, 100)
      seen.push(...page.entries.map((e) => e.seq))
    }
    expect(seen).toEqual(log.filter((e) => e.seq % 7 === 0).map((e) => e.seq))
    expect(seen).toHaveLength(357)
  })

  it('an export takes every match; an end time stops the reading past it', async () => {
    expect((await scanAudit(read, hooks, 0, null)).entries).toHaveLength(357)
    reads.length = 0
    const early = await scanAudit(read, { ...hooks, to: '2026-11-01T02:00:00.000Z' }, 0, null, 100)
    // entries 1..121 are at or before 02:00; the first batch ending past it is the second
    expect(early.entries.map((e) => e.seq)).toEqual(Array.from({ length: 17 }, (_, i) => 7 * (i + 1)))
    expect(early.more).toBe(false)
    expect(reads).toEqual([0, 100])
  })

  it('a last page that fills exactly says "more" only when a match may follow', async () => {
    const few = log.slice(0, 14) // matches: 7 and 14
    const readFew = async (after: number, limit: number) => few.filter((e) => e.seq > after).slice(0, limit)
    expect(await scanAudit(readFew, hooks, 0, 1, 100)).toMatchObject({ last: 7, more: true })
    expect(await scanAudit(readFew, hooks, 7, 1, 100)).toMatchObject({ last: 14, more: false })
  })
})

describe('the console formats', () => {
  it('shows integer amounts at their decimals, exactly', () => {
    expect(formatUnits('150000000', 8)).toBe('1.5')
    expect(formatUnits('2500000000000000007', 18)).toBe('2.500000000000000007')
    expect(formatUnits('1', 8)).toBe('0.00000001')
    expect(formatUnits('-150000001', 8)).toBe('-1.50000001')
    expect(formatUnits('0', 8)).toBe('0')
    expect(formatUnits('42', 0)).toBe('42')
    expect(formatUnits('not a number', 8)).toBe('not a number')
  })

  it('shows reserve ratios as truncated percentages', () => {
    expect(formatRatio('1.333333326666666711')).toBe('133.33 %')
    expect(formatRatio('0.399999999999999998')).toBe('39.99 %')
    expect(formatRatio('1.000000000000000000')).toBe('100.00 %')
    expect(formatRatio(null)).toBe('— (no liabilities)')
  })

  it('shortens hashes and reports progress', () => {
    expect(shortHash(`0x${'ab'.repeat(32)}`)).toBe('0xabababab…abababab')
    expect(shortHash(null)).toBe('—')
    expect(formatProgress(1234, 5000)).toBe('1234 / 5000 users (24 %)')
  })
})
