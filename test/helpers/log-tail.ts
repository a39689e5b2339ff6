/** The end of a process's log file, for error messages (empty if it cannot be read). */
import { closeSync, openSync, readSync, statSync } from 'node:fs';

export function logTail(file: string, bytes = 4000, from = 0): string {
  try {
    const size = statSync(file).size;
    const start = Math.max(from, size - bytes);
    const buf = Buffer.alloc(Math.max(0, size - start));
    const fd = openSync(file, 'r');
    try {
      readSync(fd, buf, 0, buf.length, start);
    } finally {
      closeSync(fd);
    }
    return buf.toString('utf8').trim();
  } catch {
    return '';
  }
}
