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

/** Word-wrap into lines of at most `width` cells (long words are cut), with no leading spaces. */
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
      lines.push([...rest].slice(0, width).join(''));
      rest = [...rest].slice(width).join('');
    }
    line = rest;
  }
  if (line) lines.push(line);
  return lines;
}
