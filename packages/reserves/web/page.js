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
    ? '✓ Verified: your balances are included in the published totals.'
    : `✗ NOT verified: ${result.reason}`
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
  const anchorBox = el('div')
  anchorBox.id = 'anchor'
  d.append(anchorBox)
  d.append(el('h2', 'Path (leaf at the bottom, root at the top)'))
  const path = el('div')
  path.id = 'path'
  d.append(path)
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
    path.append(row)
  }
}

/**
 * Shows where the snapshot's root was anchored, as the service that served this page recorded it
 * (GET v1/snapshots/:id/anchor, public once anchored), and whether the proof's root and totals are
 * the anchored ones. The chain itself is the authority: `cairn reserves verify --rpc --registry`.
 */
async function showAnchor(proof) {
  const box = $('anchor')
  if (!box || !/^https?:$/.test(location.protocol) || typeof proof.snapshotId !== 'string') return
  box.replaceChildren(el('h2', 'On-chain anchor'), el('div', 'looking up the anchor…'))
  let res
  try {
    res = await fetch(`v1/snapshots/${encodeURIComponent(proof.snapshotId)}/anchor`, {
      headers: { accept: 'application/json' },
    })
  } catch {
    box.lastChild.textContent = 'no anchor information is available here'
    return
  }
  if (!res.ok) {
    box.lastChild.textContent =
      res.status === 404
        ? 'this snapshot has not been anchored on a chain (yet)'
        : `anchor lookup failed (${res.status})`
    box.lastChild.className = 'unanchored'
    return
  }
  const a = await res.json()
  const same =
    a.root?.hash?.toLowerCase() === String(proof.root?.hash).toLowerCase() &&
    JSON.stringify(a.root?.balances) === JSON.stringify(proof.root?.balances)
  const where = a.anchor ?? {}
  box.replaceChildren(
    el('h2', 'On-chain anchor'),
    el(
      'div',
      same
        ? '✓ The anchored root and totals are the ones in this proof.'
        : '✗ The anchored root or totals DIFFER from this proof.',
      same ? 'anchored ok' : 'anchored bad',
    ),
    el('div', `anchored root ${a.root?.hash}`, 'hash'),
    el(
      'div',
      `chain ${where.chainId}${where.registry ? ` · registry ${where.registry}` : ''} · block ${where.blockNumber} · tx ${where.txHash}`,
      'hash',
    ),
  )
  if (!same) {
    const v = $('verdict')
    v.className = 'bad'
    v.textContent = '✗ NOT verified: the proof does not match the root anchored on chain.'
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
  const result = verifyProof(proof, expected ? { expectedRoot: expected } : {})
  render(proof, result)
  if (result.ok) void showAnchor(proof)
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
