// Transfer progress on stderr: files, bytes, rate, at most every `intervalMs`, and a last line.
import { formatDuration } from '../progress/index.ts';

export const mib = (bytes: number) => (bytes / (1 << 20)).toFixed(1);

export class TransferProgress {
  files = 0;
  bytes = 0;
  /** Bytes moved over the network in this run (not counting files already in place). */
  moved = 0;
  private readonly started = performance.now();
  private last = 0;

  constructor(
    private readonly label: string,
    private readonly totalFiles: number,
    private readonly totalBytes: number,
    private readonly log: (line: string) => void,
    private readonly intervalMs = 2000,
  ) {}

  add(bytes: number): void {
    this.bytes += bytes;
    this.moved += bytes;
    this.maybe();
  }

  fileDone(): void {
    this.files++;
    this.maybe();
  }

  seconds(): number {
    return (performance.now() - this.started) / 1000;
  }

  line(): string {
    const s = this.seconds();
    return `${this.label}: ${this.files}/${this.totalFiles} files, ${mib(this.bytes)}/${mib(this.totalBytes)} MiB, ${mib(s > 0 ? this.moved / s : 0)} MiB/s, ${formatDuration(s)}`;
  }

  private maybe(): void {
    const now = performance.now();
    if (now - this.last < this.intervalMs) return;
    this.last = now;
    this.log(this.line());
  }
}
