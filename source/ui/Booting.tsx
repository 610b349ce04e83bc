// The dashboard's first frame, drawn while the services start (the simulated cloud in demo mode,
// the settings, the first searches): the header with the three panes and a line saying what is
// starting, so the screen answers at once. q or Ctrl-C quits from here too.
import {Box, Text} from 'ink';
import {useKeyLayer} from './keys/Keyboard.js';
import type {KeyTable} from './keys/key-table.js';
import {useTheme} from './shared/theme.js';
import {useTerminalSize} from './shared/useTerminalSize.js';

const BOOT_KEYS: KeyTable<{quit: () => void}> = {
  title: 'Starting',
  actions: [
    {keys: ['q'], label: 'quit', help: 'Quit vastdeck', run: context => context.quit()},
    {keys: ['ctrl-c'], help: 'Quit vastdeck', everywhere: true, run: context => context.quit()},
  ],
};

export function Booting({onQuit, what}: {onQuit: () => void; what: string}) {
  const theme = useTheme();
  const {columns, rows} = useTerminalSize();
  useKeyLayer(BOOT_KEYS, {quit: onQuit});
  const width = Math.max(20, columns);
  const height = Math.max(3, rows - 1);
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Box height={1} width={width} flexShrink={0}>
        <Text wrap="truncate">
          <Text {...theme.accent}>{' vastdeck '}</Text>
          <Text {...theme.selected}>{' 1 Offers '}</Text>
          <Text {...theme.muted}>{' 2 Instances  3 Queue   cheapest GPU for the whole ComfyUI job'}</Text>
        </Text>
      </Box>
      <Box flexGrow={1} borderStyle="round" flexDirection="column" paddingX={1}>
        <Text wrap="truncate">{what}</Text>
      </Box>
      <Box height={1} width={width} flexShrink={0}>
        <Text wrap="truncate" {...theme.muted}>
          {' q quit'}
        </Text>
      </Box>
    </Box>
  );
}
