import { useEffect, useState } from 'react';

/**
 * The wall clock as state, ticking every `periodMs`: screens that show what is on now read the time
 * here, so a render stays a pure function of its state and the guide moves on by itself.
 */
export function useNow(periodMs = 5000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), periodMs);
    return () => clearInterval(timer);
  }, [periodMs]);
  return now;
}
