// ImportCodes' CSV: what it accepts and how it refuses, all before anything is written.
//
// - At most IMPORT_MAX_BYTES (4 MiB: 100,000 codes of up to 40 characters with CRLF; the
//   server takes messages up to 8 MiB) and MAX_CODES_PER_CALL codes; UTF-8, a BOM is ignored.
// - One code per line, or a header row naming a `code` column (any position, any case)
//   followed by rows whose other columns are ignored. A first line reading just `code` is
//   that header, not a code. Fields may be double-quoted (RFC 4180,
//   "" for a quote), but a field cannot span lines. Blank lines are skipped.
// - Each code is trimmed and upper-cased, then must be a well-formed code (codes.ts).
// - A malformed row or a code repeated in the file refuses the whole file, naming the first
//   few lines at fault; codes already in the tenant are found by the insert (db/codes.ts).
import { InvalidArgumentError } from "@apgms/common";
import { CODE_RULE, isCode, MAX_CODES_PER_CALL, normalizeCode } from "./codes.js";

export const IMPORT_MAX_BYTES = 4 * 1024 * 1024;
/** How many offending lines a refusal names. */
export const LINES_NAMED = 5;

export interface CsvCode {
  code: string;
  /** 1-based line of the file. */
  line: number;
}

/** The fields of one CSV line, or undefined when its quoting is broken. */
export function splitCsvLine(line: string): string[] | undefined {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let value = "";
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) return undefined;
        value += line.slice(i, q);
        if (line[q + 1] === '"') {
          value += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      const rest = line.indexOf(",", i);
      const tail = rest < 0 ? line.slice(i) : line.slice(i, rest);
      if (tail.trim() !== "") return undefined;
      fields.push(value);
      if (rest < 0) return fields;
      i = rest + 1;
    } else {
      const comma = line.indexOf(",", i);
      if (comma < 0) {
        fields.push(line.slice(i));
        return fields;
      }
      fields.push(line.slice(i, comma));
      i = comma + 1;
    }
  }
}

/** The first LINES_NAMED of `lines` joined, and how many more: "line 3: …; line 9: …; and 40 more". */
export function nameLines(lines: readonly string[], total = lines.length): string {
  const shown = lines.slice(0, LINES_NAMED);
  const more = total - shown.length;
  return shown.join("; ") + (more > 0 ? `; and ${more} more` : "");
}

function decode(field: string, bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new InvalidArgumentError(field, "is not UTF-8 text");
  }
}

/** The file's codes with their lines, or the refusal naming the first lines at fault. */
export function parseCodeCsv(field: string, bytes: Uint8Array): CsvCode[] {
  if (bytes.length === 0) throw new InvalidArgumentError(field, "is empty");
  if (bytes.length > IMPORT_MAX_BYTES) throw new InvalidArgumentError(field, `must be at most ${IMPORT_MAX_BYTES} bytes (4 MiB)`);
  const lines = decode(field, bytes).split(/\r\n|\n|\r/);

  let column = 0;
  let columns = 1;
  let start = lines.findIndex((l) => l.trim() !== "");
  if (start < 0) throw new InvalidArgumentError(field, "holds no codes");
  const first = splitCsvLine(lines[start]!);
  const header = first?.map((f) => f.trim().toLowerCase()).indexOf("code") ?? -1;
  if (first && header >= 0) {
    column = header;
    columns = first.length;
    start++;
  } else if (first && first.length > 1) {
    throw new InvalidArgumentError(field, `line ${start + 1}: several columns need a header row naming a \`code\` column`);
  }

  const codes: CsvCode[] = [];
  const bad: string[] = [];
  let badCount = 0;
  const firstSeen = new Map<string, number>();
  const repeats: string[] = [];
  let repeatCount = 0;
  for (let i = start; i < lines.length; i++) {
    const text = lines[i]!;
    if (text.trim() === "") continue;
    const line = i + 1;
    const fields = splitCsvLine(text);
    const value = fields && (columns > 1 || fields.length === 1) ? fields[column] : undefined;
    const code = value === undefined ? undefined : normalizeCode(value);
    if (code === undefined || !isCode(code)) {
      if (++badCount <= LINES_NAMED) bad.push(`line ${line}: ${JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text)}`);
      continue;
    }
    const seen = firstSeen.get(code);
    if (seen !== undefined) {
      if (++repeatCount <= LINES_NAMED) repeats.push(`line ${line} repeats ${code} of line ${seen}`);
      continue;
    }
    firstSeen.set(code, line);
    codes.push({ code, line });
    if (codes.length > MAX_CODES_PER_CALL) throw new InvalidArgumentError(field, `holds more than ${MAX_CODES_PER_CALL} codes`);
  }
  if (badCount > 0) throw new InvalidArgumentError(field, `each code must be ${CODE_RULE}: ${nameLines(bad, badCount)}`);
  if (repeatCount > 0) throw new InvalidArgumentError(field, `a code may appear once: ${nameLines(repeats, repeatCount)}`);
  if (codes.length === 0) throw new InvalidArgumentError(field, "holds no codes");
  return codes;
}
