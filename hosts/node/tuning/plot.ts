// An SVG of echo attenuation (ERLE) over time, one or more panels of lines: for the aec command's --plot and
// bench/aec.bench.ts's figure.

export interface ErlePoint { tS: number; erleDb: number }
export interface ErlePanel { title: string; lines: { name: string; points: ErlePoint[] }[]; shade?: [number, number] }

export function erlePlot(panels: ErlePanel[]): string {
  const W = 760, H = 260, left = 50, right = 20, top = 30, bottom = 40;
  const colours = ['#1f77b4', '#d62728', '#ff7f0e', '#2ca02c'];
  const all = panels.flatMap((p) => p.lines.flatMap((l) => l.points));
  const maxT = Math.max(...all.map((q) => q.tS), 1);
  const maxDb = Math.max(40, Math.ceil(Math.max(...all.map((q) => q.erleDb), 0) / 10) * 10);
  const tStep = niceStep(maxT / 10);
  const x = (t: number) => left + ((W - left - right) * t) / maxT;
  const y = (d: number) => top + (H - top - bottom) * (1 - Math.max(-5, Math.min(maxDb, d)) / maxDb);
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H * panels.length + 30 * panels[0].lines.length}" font-family="sans-serif" font-size="11">`];
  panels.forEach((p, n) => {
    const g: string[] = [`<g transform="translate(0,${n * H})">`, `<text x="${left}" y="18" font-size="13">${escape(p.title)}</text>`];
    if (p.shade) g.push(`<rect x="${x(p.shade[0])}" y="${top}" width="${x(p.shade[1]) - x(p.shade[0])}" height="${H - top - bottom}" fill="#eee"/>`);
    for (let d = 0; d <= maxDb; d += 10) g.push(`<line x1="${left}" x2="${W - right}" y1="${y(d)}" y2="${y(d)}" stroke="#ddd"/><text x="${left - 6}" y="${y(d) + 4}" text-anchor="end">${d} dB</text>`);
    for (let t = 0; t <= maxT; t += tStep) g.push(`<text x="${x(t)}" y="${H - bottom + 15}" text-anchor="middle">${t} s</text>`);
    p.lines.forEach((l, i) => {
      const gapS = 1.5 * (l.points.length > 1 ? l.points[1].tS - l.points[0].tS : 0.25);
      const d = l.points.map((q, k) => {
        const gap = k > 0 && q.tS - l.points[k - 1].tS > gapS;
        return `${k === 0 || gap ? 'M' : 'L'}${x(q.tS).toFixed(1)},${y(q.erleDb).toFixed(1)}`;
      }).join(' ');
      g.push(`<path d="${d}" fill="none" stroke="${colours[i % colours.length]}" stroke-width="1.5"/>`);
    });
    g.push('</g>');
    parts.push(...g);
  });
  panels[0].lines.forEach((l, i) => parts.push(`<line x1="${left}" x2="${left + 30}" y1="${H * panels.length + 10 + 20 * i}" y2="${H * panels.length + 10 + 20 * i}" stroke="${colours[i % colours.length]}" stroke-width="2"/><text x="${left + 36}" y="${H * panels.length + 14 + 20 * i}">${escape(l.name)}</text>`));
  parts.push('</svg>');
  return parts.join('\n');
}

/** 1, 2 or 5 times a power of ten, at least `raw`. */
function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(Math.max(raw, 1e-3)));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
