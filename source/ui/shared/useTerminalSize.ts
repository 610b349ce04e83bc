// The terminal's size in cells, following stdout 'resize' events. Ink 6 has no useWindowSize, and
// it does not listen for resizes at all under CI, so the layout tracks the size itself.
import {useStdout} from 'ink';
import {useEffect, useState} from 'react';

export interface TerminalSize {
  columns: number;
  rows: number;
}

const FALLBACK: TerminalSize = {columns: 80, rows: 24};

function measure(stdout: NodeJS.WriteStream): TerminalSize {
  return {columns: stdout.columns || FALLBACK.columns, rows: stdout.rows || FALLBACK.rows};
}

export function useTerminalSize(): TerminalSize {
  const {stdout} = useStdout();
  const [size, setSize] = useState(() => measure(stdout));

  useEffect(() => {
    const onResize = () => {
      setSize(previous => {
        const next = measure(stdout);
        return next.columns === previous.columns && next.rows === previous.rows ? previous : next;
      });
    };
    onResize();
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);

  return size;
}
