/**
 * LineSplitter: a byte stream cut into newline-terminated lines, with a bound on how much of
 * one line is buffered.
 *
 * Rules: a line longer than `maxLine` bytes (newline excluded) is reported once as
 * `overflow` and its bytes are discarded up to the next newline, where splitting resumes —
 * so a peer can never make the buffer grow past `maxLine`. Lines are decoded as UTF-8
 * (invalid bytes become U+FFFD, which then fails JSON parsing like any other garbage).
 * A trailing '\r' is dropped (CRLF from socat/telnet users).
 */

export type LineEvent = { kind: 'line'; text: string } | { kind: 'overflow'; bytes: number };

const NL = 0x0a;
const decoder = new TextDecoder('utf-8');

export class LineSplitter {
  private parts: Uint8Array[] = [];
  private held = 0;
  /** Bytes of an overlong line dropped so far (>0: discarding until the next newline). */
  private discarding = 0;

  constructor(readonly maxLine: number) {}

  /** Bytes currently buffered (never more than maxLine). */
  get buffered(): number {
    return this.held;
  }

  push(chunk: Uint8Array): LineEvent[] {
    const out: LineEvent[] = [];
    let start = 0;
    while (start <= chunk.length) {
      const nl = chunk.indexOf(NL, start);
      const end = nl === -1 ? chunk.length : nl;
      const piece = chunk.subarray(start, end);
      if (this.discarding > 0) {
        this.discarding += piece.length;
      } else if (this.held + piece.length > this.maxLine) {
        this.discarding = this.held + piece.length;
        this.parts = [];
        this.held = 0;
      } else if (piece.length > 0) {
        // Copy: the caller may reuse the chunk's memory.
        this.parts.push(piece.slice());
        this.held += piece.length;
      }
      if (nl === -1) break;
      if (this.discarding > 0) {
        out.push({ kind: 'overflow', bytes: this.discarding });
        this.discarding = 0;
      } else {
        out.push({ kind: 'line', text: this.take() });
      }
      start = nl + 1;
    }
    return out;
  }

  private take(): string {
    const bytes = this.parts.length === 1 ? this.parts[0]! : concat(this.parts, this.held);
    this.parts = [];
    this.held = 0;
    let text = decoder.decode(bytes);
    if (text.endsWith('\r')) text = text.slice(0, -1);
    return text;
  }
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
