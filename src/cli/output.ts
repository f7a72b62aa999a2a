/**
 * Standard output that survives its reader going away. `recur sample | head`
 * closes the pipe after a few lines; Node reports that (EPIPE) as an 'error'
 * event on process.stdout some time later, which crashes the process with a
 * stack trace, and only once a synchronous sampling loop has run to its end.
 * Writing with fs.writeSync instead sees EPIPE at once, as a return value:
 * the commands then stop printing (sample stops generating) and exit 0, as
 * Unix tools do.
 */
import { writeSync } from 'node:fs';

const sleeper = new Int32Array(new SharedArrayBuffer(4));

export class Output {
  /** True once the reader has closed the pipe; nothing is written after that. */
  closed = false;

  constructor(private readonly fd: number) {}

  /** Write all of `s`; false (and nothing more, ever) once the reader has gone. */
  write(s: string): boolean {
    if (this.closed) return false;
    const bytes = Buffer.from(s, 'utf8');
    for (let at = 0; at < bytes.length;) {
      try {
        at += writeSync(this.fd, bytes, at);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') {
          // a non-blocking pipe whose reader is slower than us (| less): wait for it
          Atomics.wait(sleeper, 0, 0, 1);
          continue;
        }
        if (code === 'EPIPE') {
          this.closed = true;
          return false;
        }
        throw e;
      }
    }
    return true;
  }
}

export const stdout = new Output(1);
