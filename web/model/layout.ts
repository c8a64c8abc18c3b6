// Pure: the dashboard's grid of charts. The charts fill a CSS grid of as many columns as fit
// (`repeat(auto-fill, minmax(…))`); when their number does not divide by the columns, the last chart
// spans the rest of its row, so the grid never shows an empty cell (issue 15: 8 charts in 3 columns
// left one).

/** Columns in a computed `grid-template-columns` value such as "440px 440px 440px". */
export function columnCount(template: string): number {
  const n = template.trim().split(/\s+/).filter((t) => t !== "" && t !== "none").length;
  return Math.max(1, n);
}

/** How many columns the last of `count` items spans so that its row is full. */
export function lastItemSpan(count: number, columns: number): number {
  if (count <= 0 || columns <= 1) return 1;
  const rest = count % columns;
  return rest === 0 ? 1 : columns - rest + 1;
}
