/**
 * What the progress bar says, line by line (src/output/progress.ts renderBarLine): totals from
 * the plan (a dump's offsets are an upper bound on its records: "~"), bytes, rate and the time
 * left from the row's own pace. Pure rendering: the inputs are fixed, so the golden file holds
 * the exact lines a terminal shows.
 */
import { describeRow, etaMs, renderBarLine, type ProgressRow } from '../../src/output/progress';
import { expectGolden } from '../support/golden';

const row = (over: Partial<ProgressRow>): ProgressRow => ({ label: 'orders', records: 0, bytes: 0, done: 0n, total: 1000n, ...over });

describe('progress bar lines', () => {
  it('show totals, bytes, rate and an ETA (golden progress/bar-lines)', () => {
    const lines = [
      // A dump that has not started: no pace yet, no ETA.
      renderBarLine(row({ recordsTotal: 1000, recordsTotalIsBound: true }), 0, etaMs(0n, 1000n, 0)),
      // A dump a quarter through after 3 s: 9 s left.
      renderBarLine(row({ records: 250, bytes: 256 * 1024, done: 250n, recordsTotal: 1000, recordsTotalIsBound: true }), 83, etaMs(250n, 1000n, 3000)),
      // A restore whose totals the manifest gives exactly, a long way to go.
      renderBarLine(
        row({ label: 'lane-a.payments', records: 10, bytes: 4096, done: 10n, total: 100_000n, recordsTotal: 100_000 }),
        10,
        etaMs(10n, 100_000n, 1000),
      ),
      // Finished.
      renderBarLine(row({ records: 1000, bytes: 3 * 1024 * 1024, done: 1000n, recordsTotal: 1000 }), 500, etaMs(1000n, 1000n, 2000)),
      // A topic name with terminal control in it is escaped, and cut to the label's width.
      renderBarLine(row({ label: 'evil\u001b[2Jtopic-with-a-very-long-name' }), 0, null),
    ];
    expectGolden('progress/bar-lines', `${lines.join('\n')}\n`);
  });
});

describe('etaMs', () => {
  it('is the time so far scaled by what is left, from the row moving', () => {
    expect(etaMs(250n, 1000n, 3000)).toBe(9000);
    expect(etaMs(1n, 3n, 1000)).toBe(2000);
  });
  it('is unknown before the row moved and zero once done', () => {
    expect(etaMs(0n, 1000n, 5000)).toBeNull();
    expect(etaMs(10n, 1000n, 0)).toBeNull();
    expect(etaMs(1000n, 1000n, 0)).toBe(0);
    expect(etaMs(0n, 0n, 0)).toBe(0);
  });
});

describe('describeRow', () => {
  it('marks an upper bound with ~ and leaves out totals the plan does not know', () => {
    expect(describeRow(row({ records: 5, recordsTotal: 9, recordsTotalIsBound: true }), 1, null)).toBe('ETA -- | 5/~9 records | 0 B | 1 rec/s');
    expect(describeRow(row({ records: 5, bytes: 2048, bytesTotal: 4096, done: 5n, total: 10n }), 1, 65_000)).toBe(
      'ETA 1 min | 5 records | 2.0 KiB/4.0 KiB | 1 rec/s',
    );
  });
});
