// The proof-checking page: reads a proof, verifies it with the bundled verifier (verifier.js), and
// draws the result. Untrusted text is only ever inserted with textContent.
import { verifyProof } from './verifier.js'

const $ = (id) => document.getElementById(id)

function el(tag, text, cls) {
  const e = document.createElement(tag)
  if (text !== undefined) e.textContent = text
  if (cls) e.className = cls
  return e
}

/** Formats an amount in the smallest unit with the currency's decimals ("150000000", 8 → "1.5"). */
export function formatAmount(amount, decimals) {
  if (!decimals) return amount
  const s = amount.padStart(decimals + 1, '0')
  const whole = s.slice(0, s.length - decimals)
  const frac = s.slice(s.length - decimals).replace(/0+$/, '')
  return frac ? `${whole}.${frac}` : whole
}

function render(proof, result) {
  const verdict = $('verdict')
  verdict.className = result.ok ? 'ok' : 'bad'
  verdict.textContent = result.ok
    ? '✓ Your balances are included in the published totals.'
    : `✗ This proof does NOT verify: ${result.reason}`
  const d = $('details')
  d.replaceChildren()
  if (!proof || typeof proof !== 'object' || !Array.isArray(proof.currencies)) return
  d.append(el('h2', 'Your balances'))
  const t = el('table')
  t.append(el('tr'))
  t.lastChild.append(el('th', 'currency'), el('th', 'your balance'), el('th', 'published total'))
  proof.currencies.forEach((c, i) => {
    const row = el('tr')
    const mine = proof.balances?.[c.symbol] ?? '?'
    const total = proof.root?.balances?.[i] ?? '?'
    row.append(
      el('td', c.symbol),
      el('td', formatAmount(String(mine), c.decimals)),
      el('td', formatAmount(String(total), c.decimals)),
    )
    t.append(row)
  })
  d.append(t)
  d.append(el('h2', 'Root'))
  d.append(el('div', `snapshot ${proof.snapshotId} · ${proof.hash} · root ${proof.root?.hash}`, 'hash'))
  if (result.computedRoot) d.append(el('div', `recomputed root ${result.computedRoot}`, 'hash'))
  d.append(el('h2', 'Path (leaf at the bottom, root at the top)'))
  const levels = [...result.steps].reverse()
  for (const s of levels) {
    const row = el('div', undefined, 'level')
    const mine = el(
      'div',
      `level ${s.level} · you: ${s.node.hash.slice(0, 18)}… [${s.node.balances.join(', ')}]`,
      'node mine hash',
    )
    const sib = el('div', `sibling: ${s.sibling.hash.slice(0, 18)}… [${s.sibling.balances.join(', ')}]`, 'node hash')
    if (s.side === 'left') row.append(mine, sib)
    else row.append(sib, mine)
    d.append(row)
  }
}

function check() {
  let proof
  try {
    proof = JSON.parse($('proof').value)
  } catch {
    render(null, { ok: false, reason: 'the text is not valid JSON', steps: [] })
    return
  }
  const expected = $('expected').value.trim()
  render(proof, verifyProof(proof, expected ? { expectedRoot: expected } : {}))
}

$('check').addEventListener('click', check)
const drop = $('drop')
drop.addEventListener('dragover', (e) => {
  e.preventDefault()
  drop.classList.add('over')
})
drop.addEventListener('dragleave', () => drop.classList.remove('over'))
drop.addEventListener('drop', async (e) => {
  e.preventDefault()
  drop.classList.remove('over')
  const file = e.dataTransfer?.files?.[0]
  if (file) {
    $('proof').value = await file.text()
    check()
  }
})
