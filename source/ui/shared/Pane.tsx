// A bordered pane with its title set into the top border (k9s style) and an optional info part
// after it. The focused pane gets the focused border tone (colour, or heavy lines under NO_COLOR)
// and a bold title, so focus is visible with or without colour.
import {Box, Text} from 'ink';
import type {ReactNode} from 'react';
import {useTheme} from './theme.js';

const CORNERS = {
  single: {left: '┌', line: '─'},
  bold: {left: '┏', line: '━'},
} as const;

/** What App gives a bottom pane whose selected row opens a detail view over the whole body. */
export interface DetailPaneSlot {
  focused: boolean;
  /** Show the selected row's detail instead of the list (App gives it the whole body). */
  detailOpen: boolean;
  onDetail(open: boolean): void;
  width: number;
  height: number;
}

interface PaneProps {
  title: string;
  /** Shown after the title in the top border; truncated when the pane is narrow. */
  info?: ReactNode;
  focused: boolean;
  width: number;
  height: number;
  children: ReactNode;
}

export function Pane({title, info, focused, width, height, children}: PaneProps) {
  const theme = useTheme();
  const border = focused ? theme.borderFocused : theme.border;
  const corners = CORNERS[border.style];
  const borderText = {color: border.color, dimColor: border.dimColor};

  // The title is drawn over the box's own top border. (Switching borderStyle on a box with
  // borderTop={false} makes Ink 6 give it a phantom top border, so the box keeps all four sides.)
  return (
    <Box width={width} height={height} flexShrink={0}>
      <Box
        flexDirection="column"
        width={width}
        height={height}
        borderStyle={border.style}
        borderColor={border.color}
        borderDimColor={border.dimColor}
        paddingX={1}
        // Only rows are cut: every line inside is already fitted to the width, and a horizontal
        // clip makes Ink measure and slice every line of the pane on every frame.
        overflowY="hidden"
      >
        {children}
      </Box>
      <Box position="absolute" width={Math.max(1, width - 1)} height={1} overflow="hidden">
        <Box flexShrink={0}>
          <Text {...borderText}>{corners.left + corners.line}</Text>
          <Text bold={focused} inverse={focused && theme.noColor} color={focused ? border.color : undefined}>{` ${title} `}</Text>
        </Box>
        {info ? (
          <Box flexShrink={1} overflow="hidden" height={1}>
            <Text wrap="truncate">{info}</Text>
          </Box>
        ) : null}
      </Box>
    </Box>
  );
}
