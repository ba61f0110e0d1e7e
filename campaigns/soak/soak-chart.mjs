// A small SVG line chart of a soak's samples: RSS and heap (MB, left axis) and the
// event-loop delay's max per interval (ms, right axis) over time.
const W = 800;
const H = 320;
const PAD = { l: 56, r: 56, t: 36, b: 40 };

export function chartSvg(samples, title) {
  const xs = samples.map((s) => s.t);
  const tMax = Math.max(1, ...xs);
  const mb = Math.max(1, ...samples.flatMap((s) => [s.rssMb, s.heapMb]).filter(Number.isFinite)) * 1.1;
  const ms = Math.max(1, ...samples.map((s) => s.loopMaxMs).filter(Number.isFinite)) * 1.1;
  const x = (t) => PAD.l + ((W - PAD.l - PAD.r) * t) / tMax;
  const yl = (v) => H - PAD.b - ((H - PAD.t - PAD.b) * v) / mb;
  const yr = (v) => H - PAD.b - ((H - PAD.t - PAD.b) * v) / ms;
  const line = (key, y, color) =>
    `<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${samples
      .filter((s) => Number.isFinite(s[key]))
      .map((s) => `${x(s.t).toFixed(1)},${y(s[key]).toFixed(1)}`)
      .join(' ')}"/>`;
  const esc = (t) => String(t).replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c]);
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">
<rect width="100%" height="100%" fill="white"/>
<text x="${W / 2}" y="18" text-anchor="middle" font-size="13">${esc(title)}</text>
<line x1="${PAD.l}" y1="${H - PAD.b}" x2="${W - PAD.r}" y2="${H - PAD.b}" stroke="#999"/>
${ticks.map((f) => `<text x="${PAD.l - 6}" y="${yl(mb * f) + 4}" text-anchor="end">${(mb * f).toFixed(0)}</text><text x="${W - PAD.r + 6}" y="${yr(ms * f) + 4}">${(ms * f).toFixed(0)}</text><text x="${x(tMax * f)}" y="${H - PAD.b + 16}" text-anchor="middle">${(tMax * f).toFixed(0)}s</text>`).join('\n')}
<text x="14" y="${H / 2}" transform="rotate(-90 14 ${H / 2})" text-anchor="middle">MB</text>
<text x="${W - 12}" y="${H / 2}" transform="rotate(90 ${W - 12} ${H / 2})" text-anchor="middle">event-loop max (ms)</text>
${line('rssMb', yl, '#1f77b4')}
${line('heapMb', yl, '#2ca02c')}
${line('loopMaxMs', yr, '#d62728')}
<text x="${PAD.l + 8}" y="${PAD.t + 4}" fill="#1f77b4">RSS</text><text x="${PAD.l + 48}" y="${PAD.t + 4}" fill="#2ca02c">heap used</text><text x="${PAD.l + 118}" y="${PAD.t + 4}" fill="#d62728">event-loop max</text>
</svg>
`;
}
