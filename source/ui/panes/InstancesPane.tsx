// The Instances pane. Renting from the dashboard is not built yet, so it says so plainly instead
// of showing anything that looks like a fleet.
import {Pane} from '../components/Pane.js';
import {Paragraph} from '../components/Paragraph.js';
import {useTheme} from '../theme.js';

interface InstancesPaneProps {
  focused: boolean;
  width: number;
  height: number;
}

export function InstancesPane({focused, width, height}: InstancesPaneProps) {
  const theme = useTheme();
  return (
    <Pane title="2 Instances" focused={focused} width={width} height={height}>
      <Paragraph text="No instances. Renting from the dashboard is not built yet; see the README's roadmap." width={width - 4} tone={theme.muted} />
    </Pane>
  );
}
