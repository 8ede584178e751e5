/**
 * RFC 4180 rows from text chunks, streamed: quoted fields may hold commas, quotes (doubled) and
 * newlines. An empty unquoted field is `null` (how synthgen writes null and missing values), an
 * empty quoted one `""`. A field longer than `maxFieldChars` is an error, so a file without a
 * closing quote cannot grow one field until memory runs out.
 */
export class CsvRows {
  private field = "";
  private quoted = false;
  private inQuotes = false;
  /** A quote seen inside a quoted field: the end of the field, or the first of a doubled quote. */
  private quotePending = false;
  private row: (string | null)[] = [];
  private atFieldStart = true;

  constructor(private readonly maxFieldChars = 16 * 1024 * 1024) {}

  /** The rows completed by this chunk. */
  push(chunk: string): (string | null)[][] {
    const rows: (string | null)[][] = [];
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i] as string;
      if (this.inQuotes) {
        if (this.quotePending) {
          this.quotePending = false;
          if (c === '"') {
            this.field += '"';
            continue;
          }
          this.inQuotes = false;
          // fall through: c is the character after the closing quote
        } else if (c === '"') {
          this.quotePending = true;
          continue;
        } else {
          this.field += c;
          if (this.field.length > this.maxFieldChars) throw new Error(`a CSV field is longer than ${this.maxFieldChars} characters (an unclosed quote?)`);
          continue;
        }
      }
      if (c === '"' && this.atFieldStart) {
        this.inQuotes = true;
        this.quoted = true;
        this.atFieldStart = false;
      } else if (c === ",") {
        this.endField();
      } else if (c === "\n") {
        this.endField();
        rows.push(this.row);
        this.row = [];
      } else if (c === "\r" && chunk[i + 1] === "\n") {
        // CRLF: the \n ends the row.
      } else {
        this.field += c;
        this.atFieldStart = false;
        if (this.field.length > this.maxFieldChars) throw new Error(`a CSV field is longer than ${this.maxFieldChars} characters`);
      }
    }
    return rows;
  }

  /** The last row when the text does not end in a newline; an error when a quote is left open. */
  end(): (string | null)[][] {
    if (this.inQuotes && !this.quotePending) throw new Error("the CSV text ends inside a quoted field");
    this.inQuotes = false;
    this.quotePending = false;
    if (this.row.length === 0 && this.field === "" && !this.quoted) return [];
    this.endField();
    const row = this.row;
    this.row = [];
    return [row];
  }

  private endField(): void {
    this.row.push(this.field === "" && !this.quoted ? null : this.field);
    this.field = "";
    this.quoted = false;
    this.atFieldStart = true;
  }
}
