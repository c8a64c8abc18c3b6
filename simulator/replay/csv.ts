// Reading a CSV log with csv-parse: rows come out with their line numbers and raw text, and every
// row the parser cannot read (an unclosed quote, a stray quote) comes out as a bad row with the
// parser's reason, instead of stopping the replay or being dropped unseen.
import { createReadStream } from "node:fs";
import { parse, type CsvError } from "csv-parse";
import type { CsvRow, ReplayFormat } from "./format.ts";
import { PS_ERR_REPLAY, ReplayError } from "./errors.ts";

export type CsvItem = { kind: "row"; row: CsvRow } | { kind: "bad"; line: number; reason: string; text: string };

/** 1-based line where a record starts, from the line where csv-parse finished it and its raw text. */
function startLine(endLine: number, raw: string): number {
  const inner = raw.replace(/[\r\n]+$/, "");
  return endLine - (inner.match(/\n/g)?.length ?? 0);
}

/**
 * The data rows of `file`, after checking its header against the format's columns. Rows with another
 * number of fields than the header come out as bad rows, like the ones the parser rejects.
 */
export async function* readCsv(file: string, format: ReplayFormat): AsyncGenerator<CsvItem> {
  const bad: CsvItem[] = [];
  const parser = createReadStream(file).pipe(
    parse({
      bom: true,
      raw: true,
      info: true,
      skip_empty_lines: true,
      relax_column_count: true,
      skip_records_with_error: true,
      on_skip: (err: CsvError | undefined, raw: string | undefined) => {
        const end = typeof (err as { lines?: unknown } | undefined)?.lines === "number" ? (err as unknown as { lines: number }).lines : 0;
        // The record as the parser took it may run over many lines: an unclosed quote takes the rest of
        // the file with it. Say where it starts and how many lines it swallowed, not only where it ended.
        const text = raw ?? "";
        const line = text ? startLine(end, text) : end;
        const lines = end - line + 1;
        const swallowed = lines > 1 ? ` (a record from line ${line} to ${end}: ${lines} lines not read as rows)` : "";
        bad.push({ kind: "bad", line, reason: `unreadable CSV: ${err?.message ?? "parse error"}${swallowed}`, text });
      },
    }),
  );
  let header = true;
  let index = 0;
  // A record the parser cannot read before the header was seen: the file is no CSV of this format (a
  // JSON-lines log given to a CSV format), not a file of malformed rows, and not an empty one.
  const notCsv = (b: CsvItem) =>
    new ReplayError(
      PS_ERR_REPLAY.NotThisFormat,
      `${file} does not look like a ${format.name} log: its first line cannot be read as CSV (${b.kind === "bad" ? b.reason : "?"}); a ${format.name} log starts with the header "${format.columns.join(",")}"`,
    );
  try {
    for await (const rec of parser as AsyncIterable<{ record: string[]; raw: string; info: { lines: number } }>) {
      // A bad record that starts on line 1 is the header itself; bad records after it wait until the header is checked.
      if (header && bad[0]?.kind === "bad" && bad[0].line <= 1) throw notCsv(bad[0]);
      if (!header) while (bad.length) yield bad.shift()!;
      if (header) {
        header = false;
        const got = rec.record.map((c) => c.trim());
        if (got.join(",") !== format.columns.join(","))
          throw new ReplayError(
            PS_ERR_REPLAY.NotThisFormat,
            `${file} does not look like a ${format.name} log: its header is "${got.join(",").slice(0, 200)}", expected "${format.columns.join(",")}"`,
          );
        continue;
      }
      const line = startLine(rec.info.lines, rec.raw);
      if (rec.record.length !== format.columns.length) {
        yield { kind: "bad", line, reason: `${rec.record.length} fields, expected ${format.columns.length}`, text: rec.raw };
        continue;
      }
      yield { kind: "row", row: { line, index: ++index, fields: rec.record, raw: rec.raw.replace(/[\r\n]+$/, "") } };
    }
  } catch (err) {
    if (err instanceof ReplayError) throw err;
    throw new ReplayError(PS_ERR_REPLAY.FileUnreadable, `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (header && bad.length) throw notCsv(bad[0]!);
  while (bad.length) yield bad.shift()!;
  if (header) throw new ReplayError(PS_ERR_REPLAY.NotThisFormat, `${file} is empty: a ${format.name} log starts with the header "${format.columns.join(",")}"`);
}

/** Lines in the file (a fast byte scan), for the progress bar's total; an estimate when fields hold newlines. */
export async function countLines(file: string): Promise<number> {
  let n = 0;
  let last = 10;
  try {
    for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) n++;
      if (chunk.length) last = chunk[chunk.length - 1]!;
    }
  } catch (err) {
    throw new ReplayError(PS_ERR_REPLAY.FileUnreadable, `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  return last === 10 ? n : n + 1;
}
