/**
 * D-pad focus: real DOM focus on elements marked `data-focusable`, moved by the arrow keys to the nearest
 * one in that direction (by their on-screen boxes), and put back whenever it is lost, so there is always
 * exactly one focused element on a screen that has any.
 */
const FOCUSABLE = '[data-focusable]:not([disabled])';

export type Direction = 'up' | 'down' | 'left' | 'right';

function focusables(root: ParentNode): HTMLElement[] {
  return Array.from(root.querySelectorAll<HTMLElement>(FOCUSABLE));
}

interface Box {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** Gap between two ranges on one axis; 0 when they overlap. */
const gap = (a0: number, a1: number, b0: number, b1: number) => Math.max(0, b0 - a1, a0 - b1);

/**
 * How far `to` lies from `from` going `dir`; Infinity when it is not that way. Sideways moves stay in
 * the row. Up or down, boxes in line (overlapping across the move) beat closer ones off to the side,
 * and among those the one with the same left edge wins: from a row's first tile to the next row's first.
 */
export function distance(from: Box, to: Box, dir: Direction): number {
  const fx = (from.left + from.right) / 2;
  const fy = (from.top + from.bottom) / 2;
  const tx = (to.left + to.right) / 2;
  const ty = (to.top + to.bottom) / 2;
  let along: number;
  let across: number;
  let offset: number;
  switch (dir) {
    case 'right':
      across = gap(from.top, from.bottom, to.top, to.bottom);
      if (tx <= fx + 1 || across > 0) return Infinity;
      along = Math.max(0, to.left - from.right);
      offset = Math.abs(to.top - from.top);
      break;
    case 'left':
      across = gap(from.top, from.bottom, to.top, to.bottom);
      if (tx >= fx - 1 || across > 0) return Infinity;
      along = Math.max(0, from.left - to.right);
      offset = Math.abs(to.top - from.top);
      break;
    case 'down':
      if (ty <= fy + 1) return Infinity;
      along = Math.max(0, to.top - from.bottom);
      across = gap(from.left, from.right, to.left, to.right);
      offset = Math.abs(to.left - from.left);
      break;
    case 'up':
      if (ty >= fy - 1) return Infinity;
      along = Math.max(0, from.top - to.bottom);
      across = gap(from.left, from.right, to.left, to.right);
      offset = Math.abs(to.left - from.left);
      break;
  }
  return along + across * 4 + offset / 100;
}

/** Moves focus from the focused element to the nearest one `dir` of it; false when there is none. */
export function moveFocus(root: HTMLElement, dir: Direction): boolean {
  const active = document.activeElement;
  if (!(active instanceof HTMLElement) || !root.contains(active)) return false;
  const from = active.getBoundingClientRect();
  let best: HTMLElement | undefined;
  let bestScore = Infinity;
  for (const el of focusables(root)) {
    if (el === active) continue;
    const score = distance(from, el.getBoundingClientRect(), dir);
    if (score < bestScore) {
      best = el;
      bestScore = score;
    }
  }
  if (!best) return false;
  best.focus();
  return true;
}

function preferred(root: HTMLElement, key: string | undefined): HTMLElement | undefined {
  const byKey = key ? focusables(root).find((el) => el.getAttribute('data-focus-key') === key) : undefined;
  return byKey ?? root.querySelector<HTMLElement>(`${FOCUSABLE}[data-autofocus]`) ?? undefined;
}

export interface FocusKeeper {
  /** The viewer moved the focus: from now on it stays where they put it. */
  viewerMoved(): void;
  dispose(): void;
}

/**
 * Keeps one element of `root` focused: the one named `preferKey` (where the viewer was when they left
 * this screen), else the one marked `data-autofocus`, else the first. Until the viewer moves, focus
 * follows the preferred element as it appears (screens render before their data arrives).
 */
export function keepFocus(root: HTMLElement, preferKey?: string): FocusKeeper {
  let settled = false;
  const settle = () => {
    const active = document.activeElement;
    const inside = active instanceof HTMLElement && active !== root && root.contains(active);
    const want = preferred(root, preferKey);
    if (inside && (settled || !want || want === active)) {
      if (want === active) settled = true;
      return;
    }
    const target = want ?? focusables(root)[0];
    if (!target) return;
    target.focus();
    if (target === want) settled = true;
  };
  let pending = 0;
  const later = () => {
    if (pending) return;
    pending = window.setTimeout(() => {
      pending = 0;
      settle();
    }, 0);
  };
  const observer = new MutationObserver(later);
  observer.observe(root, {
    childList: true,
    subtree: true,
    attributes: true,
    attributeFilter: ['disabled', 'data-autofocus'],
  });
  // A click on empty space (the web's TV mode has a mouse) drops focus to <body>: take it back.
  root.addEventListener('focusout', later);
  // A click is the viewer's choice as much as a key.
  const clicked = () => {
    settled = true;
  };
  root.addEventListener('mousedown', clicked);
  settle();
  return {
    viewerMoved: clicked,
    dispose: () => {
      observer.disconnect();
      root.removeEventListener('focusout', later);
      root.removeEventListener('mousedown', clicked);
      window.clearTimeout(pending);
    },
  };
}

/** The focus key of the focused element, remembered when the viewer leaves a screen. */
export function focusedKey(): string | undefined {
  const el = document.activeElement;
  return el instanceof HTMLElement ? (el.getAttribute('data-focus-key') ?? undefined) : undefined;
}
