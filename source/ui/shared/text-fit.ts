// Fitting text into terminal cells: truncate with '…' and pad to an exact width, so table cells
// and one-line labels never wrap. Counts code points, which is right for the text we show
// (ASCII, accents, arrows and box symbols are all one cell wide).

export function cellWidth(text: string): number {
  return [...text].length;
}

export function truncate(text: string, width: number): string {
  if (width <= 0) return '';
  const chars = [...text];
  if (chars.length <= width) return text;
  return chars.slice(0, width - 1).join('') + '…';
}

export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  const cut = truncate(text, width);
  const pad = ' '.repeat(Math.max(0, width - cellWidth(cut)));
  return align === 'right' ? pad + cut : cut + pad;
}

/** Where to cut a word longer than `width`: after its last '/' (else '-') in the first `width` cells, so a path stays readable; else at `width`. */
function breakAt(chars: readonly string[], width: number): number {
  for (const mark of ['/', '-']) {
    for (let index = width - 1; index >= Math.floor(width / 2); index--) if (chars[index] === mark) return index + 1;
  }
  return width;
}

/** Word-wrap into lines of at most `width` cells (long words are cut, paths after a '/'), with no leading spaces. */
export function wrapWords(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const candidate = line ? `${line} ${word}` : word;
    if (cellWidth(candidate) <= width) {
      line = candidate;
      continue;
    }
    if (line) lines.push(line);
    let rest = word;
    while (cellWidth(rest) > width) {
      const cut = breakAt([...rest], width);
      lines.push([...rest].slice(0, cut).join(''));
      rest = [...rest].slice(cut).join('');
    }
    line = rest;
  }
  if (line) lines.push(line);
  return lines;
}
