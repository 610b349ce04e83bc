// The current time, re-read every `intervalMs`, for labels such as "updated 12s ago". Keep it in
// the smallest component that shows the label, so the tick re-renders only that component.
import {useEffect, useState} from 'react';

export function useNow(intervalMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => {
      setNow(Date.now());
    }, intervalMs);
    return () => {
      clearInterval(timer);
    };
  }, [intervalMs]);
  return now;
}
