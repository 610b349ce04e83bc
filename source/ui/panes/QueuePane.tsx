// The Queue pane. The generation queue is not built yet, so it says so plainly instead of showing
// made-up jobs.
import {Pane} from '../components/Pane.js';
import {Paragraph} from '../components/Paragraph.js';
import {useTheme} from '../theme.js';

interface QueuePaneProps {
  focused: boolean;
  width: number;
  height: number;
}

export function QueuePane({focused, width, height}: QueuePaneProps) {
  const theme = useTheme();
  return (
    <Pane title="3 Queue" focused={focused} width={width} height={height}>
      <Paragraph text="No generation jobs. The queue is not built yet; see the README's roadmap." width={width - 4} tone={theme.muted} />
    </Pane>
  );
}
