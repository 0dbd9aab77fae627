// A DET plot as SVG: miss rate against false accepts per hour, one line per detector (each point one threshold),
// log scale across, linear up. For bench/wake-word.bench.ts's docs/figures/wake-word-det.svg.

export interface DetPoint { falseAcceptsPerHour: number; missRate: number; label?: string }
export interface DetLine { name: string; points: DetPoint[] }

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export function detPlot(title: string, lines: DetLine[]): string {
  const W = 640, H = 400, left = 60, right = 20, top = 40, bottom = 50;
  const colours = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e'];
  const lo = 0.1, hi = 1000;                  // false accepts per hour, shown on a log axis; 0 is drawn at lo
  const x = (fa: number) => left + ((W - left - right) * (Math.log10(Math.max(lo, Math.min(hi, fa))) - Math.log10(lo))) / (Math.log10(hi) - Math.log10(lo));
  const y = (miss: number) => top + (H - top - bottom) * (1 - miss);
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H + 20 * lines.length}" font-family="sans-serif" font-size="11">`,
    `<text x="${left}" y="20" font-size="13">${escape(title)}</text>`];
  for (let m = 0; m <= 1.0001; m += 0.1) out.push(`<line x1="${left}" x2="${W - right}" y1="${y(m)}" y2="${y(m)}" stroke="#ddd"/><text x="${left - 6}" y="${y(m) + 4}" text-anchor="end">${Math.round(m * 100)} %</text>`);
  for (let f = lo; f <= hi * 1.0001; f *= 10) out.push(`<line x1="${x(f)}" x2="${x(f)}" y1="${top}" y2="${H - bottom}" stroke="#ddd"/><text x="${x(f)}" y="${H - bottom + 15}" text-anchor="middle">${f < 1 ? f : Math.round(f)}</text>`);
  out.push(`<text x="${(left + W - right) / 2}" y="${H - 12}" text-anchor="middle">false accepts per hour (log; 0 drawn at ${lo})</text>`,
    `<text x="14" y="${(top + H - bottom) / 2}" transform="rotate(-90 14 ${(top + H - bottom) / 2})" text-anchor="middle">miss rate</text>`);
  lines.forEach((l, i) => {
    const colour = colours[i % colours.length];
    const points = [...l.points].sort((a, b) => a.falseAcceptsPerHour - b.falseAcceptsPerHour || b.missRate - a.missRate);
    out.push(`<path d="${points.map((p, k) => `${k ? 'L' : 'M'}${x(p.falseAcceptsPerHour).toFixed(1)},${y(p.missRate).toFixed(1)}`).join(' ')}" fill="none" stroke="${colour}" stroke-width="1.5"/>`);
    for (const p of points) out.push(`<circle cx="${x(p.falseAcceptsPerHour).toFixed(1)}" cy="${y(p.missRate).toFixed(1)}" r="2.5" fill="${colour}"><title>${escape(`${l.name} ${p.label ?? ''}`)}</title></circle>`);
    out.push(`<rect x="${left}" y="${H + 20 * i}" width="12" height="3" fill="${colour}"/><text x="${left + 18}" y="${H + 20 * i + 5}">${escape(l.name)}</text>`);
  });
  out.push('</svg>', '');
  return out.join('\n');
}
