// Reading a JSON-lines log: one row per non-blank line, with its line number and text, in the shape
// the CSV reader gives (a row's one field is its line), so a format maps it like any other row.
// The reader only splits lines: parsing each line is the format's, which reports what is no JSON.
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import type { CsvItem } from "./csv.ts";
import { PS_ERR_REPLAY, ReplayError } from "./errors.ts";

export async function* readJsonLines(file: string): AsyncGenerator<CsvItem> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
  let line = 0;
  let index = 0;
  try {
    for await (const raw of lines) {
      line++;
      // A byte-order mark on the first line is the editor's, not the log's.
      const text = line === 1 ? raw.replace(/^\uFEFF/, "") : raw;
      if (text.trim() === "") continue;
      yield { kind: "row", row: { line, index: ++index, fields: [text], raw: text } };
    }
  } catch (err) {
    throw new ReplayError(PS_ERR_REPLAY.FileUnreadable, `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
}
