// Small inline-SVG charts for the self-contained report pages: no scripts, no network, readable when
// printed. Colours are the Okabe–Ito palette, which stays distinguishable for colour-blind readers.

export const PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999999"] as const;

export function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** About `count` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

export interface LineSeries {
  name: string;
  ys: readonly (number | null)[];
  color?: string;
  dash?: boolean;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  xs: readonly number[];
  series: readonly LineSeries[];
  width?: number;
  height?: number;
  format?: (y: number) => string;
  formatX?: (x: number) => string;
  /** Vertical markers (e.g. a scenario change). */
  marks?: readonly { x: number; label: string }[];
  /** Horizontal reference lines. */
  refs?: readonly { y: number; label: string }[];
  /** Fixed y range; otherwise from the data. */
  yRange?: [number, number];
}

const fmtDefault = (v: number) => (Math.abs(v) >= 1000 ? Math.round(v).toLocaleString("en-US") : String(Number(v.toPrecision(3))));

export function lineChart(o: LineChartOptions): string {
  const W = o.width ?? 760;
  const H = o.height ?? 340;
  const m = { l: 64, r: 40, t: 28, b: 44 };
  const legendRows = Math.ceil(o.series.length / 4);
  const Hp = H + legendRows * 18;
  const fx = o.formatX ?? fmtDefault;
  const fy = o.format ?? fmtDefault;
  const all = o.series.flatMap((s) => s.ys.filter((y): y is number => y !== null && Number.isFinite(y)));
  for (const r of o.refs ?? []) all.push(r.y);
  let [y0, y1] = o.yRange ?? [Math.min(...all), Math.max(...all)];
  if (!Number.isFinite(y0) || !Number.isFinite(y1)) [y0, y1] = [0, 1];
  if (y1 === y0) [y0, y1] = [y0 - 1, y1 + 1];
  const pad = o.yRange ? 0 : (y1 - y0) * 0.05;
  y0 -= pad;
  y1 += pad;
  const x0 = Math.min(...o.xs);
  const x1 = Math.max(...o.xs) > x0 ? Math.max(...o.xs) : x0 + 1;
  const X = (x: number) => m.l + ((x - x0) / (x1 - x0)) * (W - m.l - m.r);
  const Y = (y: number) => m.t + (1 - (y - y0) / (y1 - y0)) * (H - m.t - m.b);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${Hp}" width="${W}" height="${Hp}" role="img" aria-label="${esc(o.title)}" font-family="system-ui, sans-serif" font-size="12">`);
  parts.push(`<title>${esc(o.title)}</title>`);
  parts.push(`<text x="${m.l}" y="16" font-weight="600" font-size="13">${esc(o.title)}</text>`);
  for (const t of niceTicks(y0, y1)) {
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${Y(t).toFixed(1)}" y2="${Y(t).toFixed(1)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${m.l - 6}" y="${(Y(t) + 4).toFixed(1)}" text-anchor="end" fill="#444">${esc(fy(t))}</text>`);
  }
  for (const t of niceTicks(x0, x1, 6)) {
    parts.push(`<line x1="${X(t).toFixed(1)}" x2="${X(t).toFixed(1)}" y1="${H - m.b}" y2="${H - m.b + 4}" stroke="#444"/>`);
    parts.push(`<text x="${X(t).toFixed(1)}" y="${H - m.b + 16}" text-anchor="middle" fill="#444">${esc(fx(t))}</text>`);
  }
  parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="#444"/>`);
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 8}" text-anchor="middle" fill="#222">${esc(o.xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle" fill="#222">${esc(o.yLabel)}</text>`);
  for (const r of o.refs ?? []) {
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${Y(r.y).toFixed(1)}" y2="${Y(r.y).toFixed(1)}" stroke="#888" stroke-dasharray="2 3"/>`);
    parts.push(`<text x="${W - m.r - 4}" y="${(Y(r.y) - 4).toFixed(1)}" text-anchor="end" fill="#666">${esc(r.label)}</text>`);
  }
  for (const mk of o.marks ?? []) {
    parts.push(`<line x1="${X(mk.x).toFixed(1)}" x2="${X(mk.x).toFixed(1)}" y1="${m.t}" y2="${H - m.b}" stroke="#b00" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${(X(mk.x) + 4).toFixed(1)}" y="${m.t + 12}" fill="#b00">${esc(mk.label)}</text>`);
  }
  // Lines are clipped to the plot area, so a fixed y range can leave out a noisy start.
  const clip = `clip${Math.round(Math.abs(y0 * 1e6 + y1 * 1e3 + W + H + o.series.length)) % 1e9}`;
  parts.push(`<clipPath id="${clip}"><rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}"/></clipPath>`);
  parts.push(`<g clip-path="url(#${clip})">`);
  o.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length]!;
    let d = "";
    let pen = false;
    s.ys.forEach((y, k) => {
      if (y === null || !Number.isFinite(y) || k >= o.xs.length) {
        pen = false;
        return;
      }
      d += `${pen ? "L" : "M"}${X(o.xs[k]!).toFixed(1)} ${Y(y).toFixed(1)}`;
      pen = true;
    });
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${s.dash ? ' stroke-dasharray="6 4"' : ""}><title>${esc(s.name)}</title></path>`);
  });
  parts.push("</g>");
  o.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length]!;
    const lx = m.l + (i % 4) * ((W - m.l) / 4);
    const ly = H + Math.floor(i / 4) * 18 + 4;
    parts.push(`<line x1="${lx}" x2="${lx + 22}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="3"${s.dash ? ' stroke-dasharray="6 4"' : ""}/>`);
    parts.push(`<text x="${lx + 28}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n");
}

export interface IntervalRow {
  label: string;
  items: readonly { name: string; estimate: number; ci95: readonly [number, number]; color?: string }[];
}

/** Point estimates with 95% whiskers, grouped by row, on one shared axis (with a line at zero). */
export function intervalChart(o: { title: string; xLabel: string; rows: readonly IntervalRow[]; width?: number; format?: (v: number) => string }): string {
  const W = o.width ?? 760;
  const f = o.format ?? fmtDefault;
  const m = { l: 170, r: 24, t: 30, b: 40 };
  const per = Math.max(...o.rows.map((r) => r.items.length), 1);
  const rowH = 16 * per + 30;
  const H = m.t + rowH * o.rows.length + m.b;
  const vals = o.rows.flatMap((r) => r.items.flatMap((it) => [it.ci95[0], it.ci95[1], it.estimate])).concat([0]);
  let lo = Math.min(...vals);
  let hi = Math.max(...vals);
  const pad = (hi - lo) * 0.06 || 0.01;
  lo -= pad;
  hi += pad;
  const X = (v: number) => m.l + ((v - lo) / (hi - lo)) * (W - m.l - m.r);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(o.title)}" font-family="system-ui, sans-serif" font-size="12">`);
  parts.push(`<title>${esc(o.title)}</title>`);
  parts.push(`<text x="8" y="16" font-weight="600" font-size="13">${esc(o.title)}</text>`);
  for (const t of niceTicks(lo, hi, 6)) {
    parts.push(`<line x1="${X(t).toFixed(1)}" x2="${X(t).toFixed(1)}" y1="${m.t}" y2="${H - m.b}" stroke="${t === 0 ? "#444" : "#e5e5e5"}"/>`);
    parts.push(`<text x="${X(t).toFixed(1)}" y="${H - m.b + 16}" text-anchor="middle" fill="#444">${esc(f(t))}</text>`);
  }
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 8}" text-anchor="middle" fill="#222">${esc(o.xLabel)}</text>`);
  o.rows.forEach((r, ri) => {
    const top = m.t + ri * rowH;
    parts.push(`<text x="8" y="${top + 14}" font-weight="600">${esc(r.label)}</text>`);
    r.items.forEach((it, k) => {
      const y = top + 28 + k * 16;
      const c = it.color ?? PALETTE[k % PALETTE.length]!;
      const tip = `${it.name}: ${f(it.estimate)} [${f(it.ci95[0])}, ${f(it.ci95[1])}]`;
      parts.push(`<g><title>${esc(tip)}</title>`);
      parts.push(`<line x1="${X(it.ci95[0]).toFixed(1)}" x2="${X(it.ci95[1]).toFixed(1)}" y1="${y}" y2="${y}" stroke="${c}" stroke-width="3"/>`);
      parts.push(`<line x1="${X(it.ci95[0]).toFixed(1)}" x2="${X(it.ci95[0]).toFixed(1)}" y1="${y - 5}" y2="${y + 5}" stroke="${c}" stroke-width="2"/>`);
      parts.push(`<line x1="${X(it.ci95[1]).toFixed(1)}" x2="${X(it.ci95[1]).toFixed(1)}" y1="${y - 5}" y2="${y + 5}" stroke="${c}" stroke-width="2"/>`);
      parts.push(`<circle cx="${X(it.estimate).toFixed(1)}" cy="${y}" r="4.5" fill="${c}"/>`);
      parts.push(`<text x="${m.l - 8}" y="${y + 4}" text-anchor="end" fill="${c}">${esc(it.name)}</text>`);
      parts.push(`</g>`);
    });
  });
  parts.push("</svg>");
  return parts.join("\n");
}
