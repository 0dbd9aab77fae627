// A treemap as SVG: rectangles whose areas are the values (squarified: rows laid along the shorter side, each row
// kept while it makes its rectangles squarer), grouped by colour, labelled where they are big enough to read.

export interface TreemapItem {
  label: string;
  value: number;
  /** The legend's group and the colour. */
  group: string;
}

interface Box { x: number; y: number; w: number; h: number }

/** Worst aspect ratio of a row of `areas` laid along a side of `side`. */
function worst(areas: number[], side: number): number {
  const sum = areas.reduce((a, b) => a + b, 0);
  const max = Math.max(...areas);
  const min = Math.min(...areas);
  return Math.max((side * side * max) / (sum * sum), (sum * sum) / (side * side * min));
}

/** Places `areas` (sorted largest first, summing to the box's area) in `box`; returns one rectangle per area. */
function squarify(areas: number[], box: Box): Box[] {
  const out: Box[] = [];
  let rest = { ...box };
  let i = 0;
  while (i < areas.length) {
    const side = Math.min(rest.w, rest.h);
    const row = [areas[i++]];
    while (i < areas.length && worst([...row, areas[i]], side) <= worst(row, side)) row.push(areas[i++]);
    const sum = row.reduce((a, b) => a + b, 0);
    const thick = sum / side;
    let along = 0;
    for (const area of row) {
      const length = area / thick;
      out.push(rest.w >= rest.h
        ? { x: rest.x, y: rest.y + along, w: thick, h: length }
        : { x: rest.x + along, y: rest.y, w: length, h: thick });
      along += length;
    }
    rest = rest.w >= rest.h
      ? { x: rest.x + thick, y: rest.y, w: rest.w - thick, h: rest.h }
      : { x: rest.x, y: rest.y + thick, w: rest.w, h: rest.h - thick };
  }
  return out;
}

/** `text` in lines of at most `width` characters, broken between words; [] when a word does not fit. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(' ')) {
    if (word.length > width) return [];
    const last = lines.at(-1);
    if (last !== undefined && last.length + 1 + word.length <= width) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The SVG of `items` (values > 0) in a `width` × `height` map, with a title and a legend of `colours` by group. */
export function treemapSvg(title: string, items: TreemapItem[], colours: Record<string, string>, width = 900, height = 520): string {
  const shown = items.filter((item) => item.value > 0).sort((a, b) => b.value - a.value);
  const total = shown.reduce((sum, item) => sum + item.value, 0);
  const top = 34;
  const legend = 26;
  const box = { x: 10, y: top, w: width - 20, h: height - top - legend - 10 };
  const boxes = squarify(shown.map((item) => (item.value / total) * box.w * box.h), box);
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    '<rect width="100%" height="100%" fill="#fff"/>',
    `<text x="10" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`,
  ];
  shown.forEach((item, i) => {
    const b = boxes[i];
    svg.push(`<rect x="${b.x.toFixed(1)}" y="${b.y.toFixed(1)}" width="${b.w.toFixed(1)}" height="${b.h.toFixed(1)}" fill="${colours[item.group] ?? '#ccc'}" stroke="#fff" stroke-width="1.5"><title>${esc(`${item.label}: ${(item.value / 1024).toFixed(1)} KB`)}</title></rect>`);
    const kb = `${(item.value / 1024).toFixed(1)} KB`;
    // The label wrapped to the box (about 6.2 px a character at 11 px, 13 px a line), then the size; the size alone
    // where no word fits.
    const lines = wrap(item.label, Math.floor((b.w - 8) / 6.2)).slice(0, Math.max(0, Math.floor((b.h - 20) / 13)));
    const whole = lines.length > 0 && lines.join(' ').length === item.label.length;
    (whole ? [...lines, kb] : b.h >= 14 && b.w >= kb.length * 6 + 6 ? [kb] : []).forEach((line, n, all) => {
      const size = n === all.length - 1 ? 'fill="#333"' : '';
      svg.push(`<text x="${(b.x + 4).toFixed(1)}" y="${(b.y + 14 + 13 * n).toFixed(1)}" font-size="11" ${size}>${esc(line)}</text>`);
    });
  });
  let x = 10;
  for (const [group, colour] of Object.entries(colours)) {
    const y = height - legend + 4;
    svg.push(`<rect x="${x}" y="${y}" width="12" height="12" fill="${colour}"/>`, `<text x="${x + 16}" y="${y + 11}" font-size="11">${esc(group)}</text>`);
    x += 16 + group.length * 6.2 + 18;
  }
  svg.push('</svg>');
  return svg.join('\n') + '\n';
}
