// A block of prose wrapped at word boundaries to a known width. Ink's own wrapping keeps the space
// it broke at as the next line's first character; this does not. It never shrinks: in a box too
// short for it, the box's overflow="hidden" cuts the last lines (shrunk lines would overlap).
import {Box, Text} from 'ink';
import {wrapWords} from './text-fit.js';
import type {Tone} from './theme.js';

interface ParagraphProps {
  text: string;
  width: number;
  tone?: Tone;
}

export function Paragraph({text, width, tone}: ParagraphProps) {
  return (
    <Box flexDirection="column" flexShrink={0}>
      {wrapWords(text, Math.max(1, width)).map((line, index) => (
        <Text key={index} {...tone}>
          {line}
        </Text>
      ))}
    </Box>
  );
}
