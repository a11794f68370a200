/**
 * The DAG page's script (runs in the browser; plain ES2020, no imports). Every second it asks the
 * node's own JSON-RPC (same origin) for `cairn_getDagInfo`, walks back from the tips over
 * `cairn_getBlockDagData` (one batch per step back, at most `?blocks=` blocks, 60 by default),
 * and draws the DAG as of the first reading: x = blue score, lanes on y (the chain block in lane 0),
 * parent edges (the selected parent's bold), blue, red and not yet merged blocks, the selected
 * chain outlined. The `<svg>` carries what a test reads: `data-complete` (the walk reached the
 * genesis), `data-consistent` (the first reading's sink was still on the chain during the walk), the totals of
 * `cairn_getDagInfo`; each block's `<g>` its `data-hash`, `data-colour` and `data-chain`.
 */
export const DAG_PAGE_SCRIPT = `
'use strict';
const NS = 'http://www.w3.org/2000/svg';
const q = new URLSearchParams(location.search);
const LIMIT = Math.max(1, Math.min(2000, Number(q.get('blocks')) || 60));
const POLL_MS = Math.max(200, Number(q.get('pollMs')) || 1000);
let nextId = 1;
async function rpc(calls) {
  const body = calls.map(function (c) { return { jsonrpc: '2.0', id: nextId++, method: c[0], params: c[1] }; });
  const res = await fetch('/', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const answers = await res.json();
  const byId = new Map(answers.map(function (a) { return [a.id, a]; }));
  return body.map(function (b) {
    const a = byId.get(b.id);
    if (!a || a.error) throw new Error(b.method + ': ' + (a && a.error ? a.error.message : 'no answer'));
    return a.result;
  });
}
async function snapshot() {
  const info = (await rpc([['cairn_getDagInfo', []]]))[0];
  const blocks = new Map();
  let frontier = info.tips.slice();
  let complete = false;
  while (frontier.length > 0 && blocks.size < LIMIT) {
    const batch = frontier.slice(0, LIMIT - blocks.size);
    const data = await rpc(batch.map(function (h) { return ['cairn_getBlockDagData', [h]]; }));
    const next = new Set();
    data.forEach(function (d, i) {
      if (!d) return;
      blocks.set(batch[i], d);
      if (d.parents.length === 0) complete = true;
      for (const p of d.parents) if (!blocks.has(p)) next.add(p);
    });
    frontier = Array.from(next).filter(function (h) { return !blocks.has(h); });
  }
  if (frontier.length > 0) complete = false;
  // Blocks mined during the walk are not in it; a chain block among them may have accepted some of
  // the walked blocks since: those are drawn as the first reading saw them, not yet merged (see
  // colourOf). Only a reorganisation that took the first reading's sink off the chain spoils it.
  const sink = blocks.get(info.virtualSelectedParent);
  return { info: info, blocks: blocks, complete: complete, consistent: sink !== undefined && sink.isChainBlock };
}
function el(name, attrs, parent) {
  const e = document.createElementNS(NS, name);
  for (const k in attrs) e.setAttribute(k, String(attrs[k]));
  if (parent) parent.appendChild(e);
  return e;
}
/** A block's colour in the mergeset of the chain block that accepted it, if that block is in the walk. */
function colourOf(d, blocks) {
  return (d.color === 'blue' || d.color === 'red') && blocks.has(d.acceptingBlock) ? d.color : 'none';
}
function draw(s) {
  const svg = document.getElementById('dag');
  const blocks = Array.from(s.blocks.values());
  const scores = blocks.map(function (d) { return d.blueScore; });
  const min = Math.min.apply(null, scores), max = Math.max.apply(null, scores);
  const columns = new Map();
  for (const d of blocks) {
    const col = columns.get(d.blueScore) || [];
    col.push(d);
    columns.set(d.blueScore, col);
  }
  const pos = new Map();
  let lanes = 1;
  for (const col of columns.values()) {
    col.sort(function (a, b) { return (b.isChainBlock - a.isChainBlock) || (a.hash < b.hash ? -1 : 1); });
    col.forEach(function (d, i) { pos.set(d.hash, { x: 40 + (d.blueScore - min) * 56, y: 40 + i * 48 }); });
    lanes = Math.max(lanes, col.length);
  }
  const width = 80 + (max - min) * 56, height = 60 + lanes * 48;
  // The newest blocks are on the right: stay there unless the reader scrolled back.
  const wrap = svg.parentElement;
  const atEnd = wrap.scrollLeft + wrap.clientWidth >= wrap.scrollWidth - 80;
  svg.replaceChildren();
  el('title', {}, svg).textContent = 'GhostDAG blocks by blue score';
  svg.setAttribute('viewBox', '0 0 ' + width + ' ' + height);
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  const edges = el('g', { class: 'edges' }, svg);
  for (const d of blocks) {
    const from = pos.get(d.hash);
    for (const p of d.parents) {
      const to = pos.get(p);
      if (!to) continue;
      const chain = d.isChainBlock && p === d.selectedParent;
      el('line', { x1: from.x, y1: from.y, x2: to.x, y2: to.y, class: chain ? 'edge chain' : p === d.selectedParent ? 'edge sp' : 'edge', 'data-chain': chain ? 1 : 0 }, edges);
    }
  }
  let blue = 0, red = 0, chain = 0;
  for (const d of blocks) {
    const c = colourOf(d, s.blocks);
    if (c === 'blue') blue++;
    if (c === 'red') red++;
    if (d.isChainBlock) chain++;
    const p = pos.get(d.hash);
    const g = el('g', { class: 'block ' + c + (d.isChainBlock ? ' chain' : '') + (d.hash === s.info.virtualSelectedParent ? ' sink' : ''), 'data-hash': d.hash, 'data-colour': c, 'data-chain': d.isChainBlock ? 1 : 0, 'data-blue-score': d.blueScore }, svg);
    el('rect', { x: p.x - 18, y: p.y - 14, width: 36, height: 28, rx: 5 }, g);
    el('text', { x: p.x, y: p.y + 4 }, g).textContent = d.hash.slice(2, 6);
    el('title', {}, g).textContent = d.hash + '\\nblue score ' + d.blueScore + '\\ncolour ' + c + (d.acceptingBlock ? ' (accepted by ' + d.acceptingBlock.slice(0, 10) + ')' : '') + '\\nmergeset: ' + d.mergesetBlues.length + ' blue, ' + d.mergesetReds.length + ' red';
  }
  if (atEnd) wrap.scrollLeft = wrap.scrollWidth;
  const i = s.info;
  svg.dataset.complete = s.complete ? '1' : '0';
  svg.dataset.consistent = s.consistent ? '1' : '0';
  svg.dataset.blockCount = String(i.blockCount);
  svg.dataset.blueCount = String(i.blueBlockCount);
  svg.dataset.redCount = String(i.redBlockCount);
  svg.dataset.drawn = String(blocks.length);
  svg.dataset.drawnBlue = String(blue);
  svg.dataset.drawnRed = String(red);
  svg.dataset.drawnChain = String(chain);
  document.getElementById('totals').textContent = 'blocks ' + i.blockCount + ' · chain ' + i.chainBlockCount + ' · blue ' + i.blueBlockCount + ' · red ' + i.redBlockCount + ' · blue ratio ' + (i.blueRatio * 100).toFixed(1) + '% · blue score ' + i.blueScore + ' · tips ' + i.tips.length + ' · k ' + i.k;
  document.getElementById('shown').textContent = 'drawn: the last ' + blocks.length + ' blocks' + (s.complete ? ' (the whole DAG)' : '') + ' — ' + blue + ' blue, ' + red + ' red, ' + (blocks.length - blue - red) + ' not yet merged, ' + chain + ' on the selected chain';
}
async function poll() {
  try {
    draw(await snapshot());
    document.getElementById('error').textContent = '';
  } catch (err) {
    document.getElementById('error').textContent = String(err && err.message ? err.message : err);
  }
  setTimeout(poll, POLL_MS);
}
poll();
`
