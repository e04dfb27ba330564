// "Did you mean …?" for misspelt keys and symbols: the closest candidate by edit
// distance (optimal string alignment, so a swapped pair of letters costs 1).

export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  const at = (i: number, j: number): number => d[i * cols + j] ?? 0;
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, at(i - 2, j - 2) + 1);
      d[i * cols + j] = v;
    }
  }
  return at(a.length, b.length);
}

/**
 * The candidate closest to `word`, if it is close enough to be a plausible typo:
 * at most a third of the word's length (and at least 1) edits away, compared
 * case-insensitively. Ties go to the earlier candidate.
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const w = word.toLowerCase();
  const limit = Math.max(1, Math.floor(w.length / 3));
  let best: string | undefined;
  let bestDist = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const dist = editDistance(w, c.toLowerCase());
    if (dist < bestDist) {
      best = c;
      bestDist = dist;
    }
  }
  return bestDist <= limit ? best : undefined;
}

/** "did you mean X?" when a close candidate exists — for an error's hint. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const c = closest(word, candidates);
  return c === undefined ? undefined : `did you mean ${c}?`;
}

/**
 * An existing symbol for a mistyped one: the closest by edit distance, else the
 * shortest symbol holding every _-separated word of it (log_level ->
 * LOG_DEFAULT_LEVEL). Never a name the tree does not have.
 */
export function closestSymbol(word: string, symbols: readonly string[]): string | undefined {
  const near = closest(word, symbols);
  if (near !== undefined) return near;
  const words = word
    .toUpperCase()
    .split('_')
    .filter((w) => w !== '');
  if (words.length === 0) return undefined;
  let best: string | undefined;
  for (const s of symbols) {
    const have = s.split('_');
    if (words.every((w) => have.includes(w)) && (best === undefined || s.length < best.length)) best = s;
  }
  return best;
}
