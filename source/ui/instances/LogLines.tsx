// Draws the log rows log-window.ts picked: an optional dim file tag, then the text with every
// match of the filter highlighted. One <Text> per row, nothing beyond the visible rows.
import {Box, Text} from 'ink';
import {TAG_WIDTH, type LogRow} from './log-window.js';
import {fit} from '../shared/text-fit.js';
import {useTheme} from '../shared/theme.js';

/** `text` cut into plain and matching parts (case-insensitive); one plain part when nothing matches. */
export function highlightParts(text: string, filter: string): Array<{text: string; match: boolean}> {
  if (!filter) return [{text, match: false}];
  const parts: Array<{text: string; match: boolean}> = [];
  const lower = text.toLowerCase();
  const needle = filter.toLowerCase();
  let from = 0;
  for (let at = lower.indexOf(needle); at >= 0 && needle.length > 0; at = lower.indexOf(needle, at + needle.length)) {
    if (at > from) parts.push({text: text.slice(from, at), match: false});
    parts.push({text: text.slice(at, at + needle.length), match: true});
    from = at + needle.length;
  }
  if (from < text.length || parts.length === 0) parts.push({text: text.slice(from), match: false});
  return parts;
}

interface LogLinesProps {
  rows: readonly LogRow[];
  tags: boolean;
  filter: string;
}

export function LogLines({rows, tags, filter}: LogLinesProps) {
  const theme = useTheme();
  return (
    <Box flexDirection="column" flexShrink={0}>
      {rows.map((row, index) => (
        <Text key={index} wrap="truncate" {...(row.notice ? theme.muted : {})}>
          {tags ? <Text {...theme.muted}>{`${fit(row.tag, TAG_WIDTH - 1)} `}</Text> : null}
          {highlightParts(row.text, filter).map((part, at) => (
            <Text key={at} {...(part.match ? theme.match : {})}>
              {part.text}
            </Text>
          ))}
        </Text>
      ))}
    </Box>
  );
}
