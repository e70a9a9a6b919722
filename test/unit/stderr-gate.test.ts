/**
 * Lines to stderr while a progress display is drawn go above it, through the display
 * (src/output/stderr.ts): a warning never glues onto a bar. The interrupt takes the display
 * down first. The completion log line is for log collectors: a human-format logger skips it.
 */
import { createLogger, logCompletion } from '../../src/output/logger';
import { claimStderr, stopLiveDisplay, writeStderr } from '../../src/output/stderr';

function fakeDisplay(): { logged: string[]; stops: number; display: { log(t: string): void; stop(): void } } {
  const state = { logged: [] as string[], stops: 0, display: { log: (t: string) => state.logged.push(t), stop: () => state.stops++ } };
  return state;
}

describe('the stderr gate', () => {
  it('hands every line to the display while one is drawn, and writes directly after it let go', () => {
    const d = fakeDisplay();
    const direct: string[] = [];
    const release = claimStderr(d.display);
    writeStderr('one\n', (s) => direct.push(s));
    release();
    writeStderr('two\n', (s) => direct.push(s));
    expect(d.logged).toEqual(['one\n']);
    expect(direct).toEqual(['two\n']);
  });

  it("routes a human logger's warning (default destination) through the display", () => {
    const d = fakeDisplay();
    const release = claimStderr(d.display);
    try {
      createLogger({ format: 'human' }).warn('broker 2 went away');
    } finally {
      release();
    }
    expect(d.logged).toEqual(['kbak: warning: broker 2 went away\n']);
  });

  it('stopLiveDisplay stops the display once and lets go of stderr', () => {
    const d = fakeDisplay();
    const direct: string[] = [];
    claimStderr(d.display);
    stopLiveDisplay();
    stopLiveDisplay();
    writeStderr('after\n', (s) => direct.push(s));
    expect(d.stops).toBe(1);
    expect(direct).toEqual(['after\n']);
  });
});

describe('logCompletion', () => {
  it('writes one JSON line for a log collector and nothing for a person (stdout has the summary)', () => {
    const json: string[] = [];
    const human: string[] = [];
    logCompletion(createLogger({ format: 'json', write: (s) => json.push(s) }), { summary: { records: 3 } }, 'backup b complete');
    logCompletion(createLogger({ format: 'human', write: (s) => human.push(s) }), { summary: { records: 3 } }, 'backup b complete');
    expect(json).toHaveLength(1);
    expect(JSON.parse(json[0]!)).toMatchObject({ level: 30, msg: 'backup b complete', summary: { records: 3 } });
    expect(human).toEqual([]);
  });
});
