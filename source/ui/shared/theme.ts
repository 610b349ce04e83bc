// Semantic colour tokens for every component: they say what a thing means (good, bad, new…),
// never which colour it is. NO_COLOR (any non-empty value, https://no-color.org) gives a theme
// without any colour at all, telling things apart by bold, dim, underline, inverse and border weight.
import {createContext, useContext} from 'react';

/** Text attributes, spread straight onto Ink's <Text>. */
export interface Tone {
  color?: string;
  bold?: boolean;
  dimColor?: boolean;
  underline?: boolean;
  inverse?: boolean;
}

/** How a pane border is drawn. */
export interface BorderTone {
  color?: string;
  dimColor?: boolean;
  style: 'single' | 'bold';
}

export interface Theme {
  noColor: boolean;
  accent: Tone;
  muted: Tone;
  good: Tone;
  warn: Tone;
  bad: Tone;
  selected: Tone;
  changed: Tone;
  new: Tone;
  vanished: Tone;
  /** Text matching a search or filter. */
  match: Tone;
  /** A secret shown on request (portal token). */
  secret: Tone;
  /** Mode badge in the status bar: demo is safe, live spends money. */
  badgeDemo: Tone;
  badgeLive: Tone;
  border: BorderTone;
  borderFocused: BorderTone;
}

const colourTheme: Theme = {
  noColor: false,
  accent: {color: 'cyan', bold: true},
  muted: {color: 'gray'},
  good: {color: 'green'},
  warn: {color: 'yellow'},
  bad: {color: 'red', bold: true},
  selected: {inverse: true},
  changed: {color: 'yellow'},
  new: {color: 'green', bold: true},
  vanished: {color: 'gray', dimColor: true},
  match: {color: 'yellow', bold: true, underline: true},
  secret: {color: 'magenta', bold: true},
  badgeDemo: {color: 'cyan', bold: true, inverse: true},
  badgeLive: {color: 'yellow', bold: true, inverse: true},
  border: {color: 'gray', style: 'single'},
  borderFocused: {color: 'cyan', style: 'single'},
};

const monochromeTheme: Theme = {
  noColor: true,
  accent: {bold: true},
  muted: {dimColor: true},
  good: {},
  warn: {bold: true},
  bad: {bold: true},
  selected: {inverse: true},
  changed: {underline: true},
  new: {bold: true},
  vanished: {dimColor: true},
  match: {bold: true, underline: true},
  secret: {bold: true, underline: true},
  badgeDemo: {bold: true, inverse: true},
  badgeLive: {bold: true, inverse: true},
  border: {dimColor: true, style: 'single'},
  borderFocused: {style: 'bold'},
};

export function noColorRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  return (env['NO_COLOR'] ?? '') !== '';
}

export function createTheme(options: {noColor: boolean}): Theme {
  return options.noColor ? monochromeTheme : colourTheme;
}

export const ThemeContext = createContext<Theme>(createTheme({noColor: noColorRequested()}));

export function useTheme(): Theme {
  return useContext(ThemeContext);
}
