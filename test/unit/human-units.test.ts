/** Durations and sizes as people read them (src/output/human-time.ts, human-size.ts). Pure. */
import { formatBytes } from '../../src/output/human-size';
import { duration } from '../../src/output/human-time';

describe('duration', () => {
  it('milliseconds below a second, tenths below a minute, then minutes and seconds, then hours', () => {
    const ms = [0, 850, 1000, 1340, 59_999, 60_000, 125_400, 3_599_999, 3_600_000, 3_780_000, 26 * 3_600_000, -5];
    expect(ms.map(duration)).toEqual([
      '0 ms',
      '850 ms',
      '1.0 s',
      '1.3 s',
      '59.9 s',
      '1 min',
      '2 min 5 s',
      '59 min 59 s',
      '1 h',
      '1 h 3 min',
      '1 d 2 h',
      '0 ms',
    ]);
  });
});

describe('formatBytes', () => {
  it('binary units, one decimal above bytes', () => {
    expect([0, 1023, 1024, 1536, 1_572_864, 734_003_200, 2 ** 40, 2 ** 50 * 3].map(formatBytes)).toEqual([
      '0 B',
      '1023 B',
      '1.0 KiB',
      '1.5 KiB',
      '1.5 MiB',
      '700.0 MiB',
      '1.0 TiB',
      '3.0 PiB',
    ]);
  });
});
