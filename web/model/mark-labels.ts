// Pure: where the charts' mark labels go. Marks that come close together (a scenario switch and two
// reseeds within seconds) would print their labels over one another ("taste-shiftseed 42seed 0"):
// each label takes the first row down the plot where it overlaps no other, and a label with no free
// row is left out (its line is still drawn). The newest marks are placed first, so a burst of changes
// always names the world the chart shows now.

export interface MarkLabelInput {
  /** The mark's line, in canvas pixels. */
  x: number;
  /** The label's measured width, in canvas pixels. */
  width: number;
}

export interface MarkLabelPlace {
  row: number;
  align: "left" | "right";
  /** Where the text is anchored (its left end when aligned left, its right end otherwise). */
  textX: number;
}

export interface MarkLabelArea {
  left: number;
  width: number;
  /** Rows available below the plot's top. */
  rows: number;
  /** Space between a line and its label. */
  pad: number;
  /** Least space between two labels in a row. */
  gap: number;
}

/** One place per input, in input order (oldest first), or null for a label that does not fit. */
export function placeMarkLabels(labels: readonly MarkLabelInput[], area: MarkLabelArea): (MarkLabelPlace | null)[] {
  const taken: [number, number][][] = Array.from({ length: area.rows }, () => []);
  const out: (MarkLabelPlace | null)[] = labels.map(() => null);
  for (let i = labels.length - 1; i >= 0; i--) {
    const { x, width } = labels[i]!;
    // Near the right edge the label reads leftwards from its line, so it stays inside the plot.
    const align = x > area.left + area.width * 0.75 ? "right" : "left";
    const textX = align === "right" ? x - area.pad : x + area.pad;
    const from = align === "right" ? textX - width : textX;
    const to = from + width;
    const row = taken.findIndex((spans) => spans.every(([a, b]) => to + area.gap <= a || from >= b + area.gap));
    if (row < 0) continue;
    taken[row]!.push([from, to]);
    out[i] = { row, align, textX };
  }
  return out;
}
