// Connects the KeyDispatcher to Ink and React: it reads what the terminal sends (Ink's raw input
// events, before Ink's own per-event key parsing), splits each read into keys (key-parser.ts) and
// pushes them to the dispatcher; views register their key tables with useKeyLayer, and the status
// bar reads the current hints with useKeyHints.
import {useStdin} from 'ink';
import {createContext, useContext, useEffect, useLayoutEffect, useMemo, useRef, useState, type ReactNode} from 'react';
import {KeyDispatcher, type LayerKind} from './key-dispatcher.js';
import {createKeyParser} from './key-parser.js';
import type {Hint, KeyTable} from './key-table.js';

const KeyboardContext = createContext<{dispatcher: KeyDispatcher; version: number} | undefined>(undefined);

export function KeyboardProvider({children, onError}: {children: ReactNode; onError(error: unknown): void}) {
  const {internal_eventEmitter: events, setRawMode} = useStdin();
  const [version, setVersion] = useState(0);
  const onErrorRef = useRef(onError);
  onErrorRef.current = onError;
  const [dispatcher] = useState(() => new KeyDispatcher({onError: error => onErrorRef.current(error), onLayersChanged: () => setVersion(current => current + 1)}));

  useEffect(() => {
    const parser = createKeyParser();
    // Ink has already held back a lone ESC until it knew it was the Escape key: flush releases it.
    const onInput = (data: string) => dispatcher.push([...parser.push(data), ...parser.flush()]);
    setRawMode(true);
    events.on('input', onInput);
    return () => {
      events.off('input', onInput);
      setRawMode(false);
      dispatcher.stop();
    };
  }, [events, setRawMode, dispatcher]);

  const value = useMemo(() => ({dispatcher, version}), [dispatcher, version]);
  return <KeyboardContext.Provider value={value}>{children}</KeyboardContext.Provider>;
}

function useKeyboard() {
  const keyboard = useContext(KeyboardContext);
  if (!keyboard) throw new Error('Key layers need a KeyboardProvider (App renders one).');
  return keyboard;
}

/**
 * Registers `table` for this view while `active`. `context` is read at dispatch time (the latest
 * render's), so its functions must read state through refs, never through render-time values.
 */
export function useKeyLayer<C>(table: KeyTable<C>, context: C, options: {kind?: LayerKind; active?: boolean} = {}): void {
  const {dispatcher} = useKeyboard();
  const {kind = 'view', active = true} = options;
  const contextRef = useRef<unknown>(context);
  contextRef.current = context;
  useLayoutEffect(() => {
    if (!active) return undefined;
    return dispatcher.register({table: table as KeyTable<unknown>, context: contextRef, kind});
  }, [dispatcher, table, kind, active]);
}

/** The hints of whatever has the keyboard now (re-rendered when views come and go). */
export function useKeyHints(): Hint[] {
  return useKeyboard().dispatcher.hints();
}
