/**
 * One restore per lane (src/lane/claim.ts): the claims read from the ledger, who wins, when an
 * intent is live, and what a lane whose restore is gone shows. Pure, apart from a real dead
 * process for the "holder provably gone" rule.
 */
import { spawn } from 'node:child_process';
import { ConflictError } from '../../src/errors';
import { arbitrate, assertNoLiveHolder, effectiveState, holdHere, intentLiveness, LEASE_MS, HEARTBEAT_MS, newIntent } from '../../src/lane/claim';
import { abandonedLanes } from '../../src/lane/lifecycle';
import { withFailure } from '../../src/lane/intent';
import { claimKey, encodeClaim, encodeLedgerEntry, foldLedger, type LaneIntent, type LedgerEntry } from '../../src/lane/ledger';
import { laneTemplates } from '../../src/lane/ownership';
import { thisProcess } from '../../src/util/holder';

const NOW = new Date('2026-11-25T13:00:10.000Z');

function intent(id: string, over: Partial<LaneIntent> = {}): LaneIntent {
  return {
    id,
    holder: { host: 'other-host', pid: 100, pidNamespace: null, command: 'restore --lane fx' },
    startedAt: '2026-11-25T13:00:00.000Z',
    heartbeatAt: '2026-11-25T13:00:00.000Z',
    leaseMs: 30_000,
    ...over,
  };
}

function entry(over: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    format: 2,
    lane: 'fx',
    origin: { cluster: 'prod', backupId: '20261125T120000000Z', location: null, lane: null, policy: null },
    createdAt: '2026-11-25T12:00:00.000Z',
    updatedAt: '2026-11-25T12:00:01.000Z',
    kbakVersion: '0.1.0',
    ttlMs: null,
    expiresAt: null,
    state: 'restoring',
    failure: null,
    intent: null,
    templates: laneTemplates({}),
    topics: [],
    subjects: [],
    groups: [],
    leases: [],
    ...over,
  };
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((r) => child.on('close', r));
  return child.pid!;
}

describe('claims in the ledger', () => {
  it('folds claims apart from lane entries, in offset order, and drops withdrawn or forged ones', () => {
    const a = encodeClaim('fx', intent('aaaaaaaaaaaaaaaa'));
    const b = encodeClaim('fx', intent('bbbbbbbbbbbbbbbb'));
    const c = encodeClaim('gx', intent('cccccccccccccccc'));
    const forged = { key: Buffer.from(claimKey('fx', 'dddddddddddddddd')), value: encodeClaim('fx', intent('eeeeeeeeeeeeeeee')).value };
    const read = foldLedger([
      encodeLedgerEntry(entry()),
      b,
      a,
      c,
      forged,
      { key: Buffer.from(claimKey('gx', 'cccccccccccccccc')), value: null },
      { key: Buffer.from(claimKey('fx', 'ffffffffffffffff')), value: Buffer.from('{not json') },
    ]);
    expect([...read.entries.keys()]).toEqual(['fx']);
    expect(read.claims.get('fx')!.map((x) => x.intent.id)).toEqual(['bbbbbbbbbbbbbbbb', 'aaaaaaaaaaaaaaaa']);
    expect(read.claims.has('gx')).toBe(false);
    expect(read.invalid).toEqual([]);
  });
});

describe('liveness', () => {
  it('an intent is live until its heartbeat plus lease, or until its process on this host is gone', async () => {
    expect(intentLiveness(intent('a1b2c3d4'), NOW)).toEqual({ live: true });
    expect(intentLiveness(intent('a1b2c3d4'), new Date('2026-11-25T13:00:31.000Z'))).toEqual({
      live: false,
      why: 'its heartbeat lapsed at 2026-11-25T13:00:30.000Z',
    });
    const dead = { ...thisProcess(), pid: await deadPid(), command: 'restore --lane fx' };
    expect(intentLiveness(intent('a1b2c3d4', { holder: dead }), NOW)).toEqual({ live: false, why: expect.stringContaining(`its process ${dead.pid}`) });
    // The same PID on another host cannot be judged: the lease decides.
    expect(intentLiveness(intent('a1b2c3d4', { holder: { ...dead, host: 'elsewhere' } }), NOW).live).toBe(true);
    expect(LEASE_MS).toBe(6 * HEARTBEAT_MS);
    // This very process: live only while one of its runs holds the intent (a library caller's failed restore is over).
    const here = intent('feedbeef', { holder: { ...thisProcess(), command: 'restore --lane fx' } });
    expect(intentLiveness(here, NOW)).toEqual({ live: false, why: `its run in this process (pid ${process.pid}) ended` });
    const release = holdHere('feedbeef');
    expect(intentLiveness(here, NOW)).toEqual({ live: true });
    release();
    expect(intentLiveness(here, NOW).live).toBe(false);
    const mine = newIntent('restore --lane fx', NOW);
    expect(mine).toMatchObject({ holder: { pid: process.pid, command: 'restore --lane fx' }, leaseMs: LEASE_MS, heartbeatAt: NOW.toISOString() });
    expect(mine.id).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('arbitration', () => {
  const claims = (...ids: string[]) => ids.map((id, i) => ({ lane: 'fx', intent: intent(id), seq: i + 1 }));

  it('the earliest live claim wins; the later one gets exit 8 naming the holder', () => {
    const both = claims('aaaaaaaa', 'bbbbbbbb');
    expect(arbitrate('fx', 'aaaaaaaa', null, both, NOW)).toBeNull();
    const lost = arbitrate('fx', 'bbbbbbbb', null, both, NOW)!;
    expect(lost).toBeInstanceOf(ConflictError);
    expect(lost.exitCode).toBe(8);
    expect(lost.message).toBe('lane fx is being restored by restore --lane fx on other-host (pid 100) since 2026-11-25T13:00:00.000Z');
  });

  it('an earlier claim that is gone does not count; a live intent of another run in the entry always wins', async () => {
    const dead = intent('aaaaaaaa', { holder: { ...thisProcess(), pid: await deadPid(), command: 'restore --lane fx' } });
    expect(arbitrate('fx', 'bbbbbbbb', null, [{ lane: 'fx', intent: dead, seq: 1 }, ...claims('bbbbbbbb').map((c) => ({ ...c, seq: 2 }))], NOW)).toBeNull();
    const held = entry({ intent: intent('cccccccc') });
    expect(arbitrate('fx', 'aaaaaaaa', held, claims('aaaaaaaa'), NOW)).toBeInstanceOf(ConflictError);
    // The winner's claim is judged by the heartbeat in the entry, not by its own (older) time.
    const beating = entry({ intent: intent('aaaaaaaa', { heartbeatAt: '2026-11-25T13:05:00.000Z' }) });
    expect(arbitrate('fx', 'bbbbbbbb', beating, claims('aaaaaaaa', 'bbbbbbbb'), new Date('2026-11-25T13:05:10.000Z'))).toBeInstanceOf(ConflictError);
    // A claim not read back is never a win.
    expect(arbitrate('fx', 'dddddddd', null, claims('aaaaaaaa'), new Date('2026-11-25T14:00:00.000Z'))).toBeInstanceOf(ConflictError);
  });

  it('refuses before claiming when another run holds or claims the lane', () => {
    expect(() => assertNoLiveHolder('fx', entry({ intent: intent('cccccccc') }), [], NOW)).toThrow(ConflictError);
    expect(() => assertNoLiveHolder('fx', null, claims('aaaaaaaa'), NOW)).toThrow('lane fx is being restored by');
    expect(() => assertNoLiveHolder('fx', entry({ intent: intent('cccccccc') }), [], new Date('2026-11-25T14:00:00.000Z'))).not.toThrow();
    expect(() => assertNoLiveHolder('fx', entry({ state: 'ready' }), [], NOW)).not.toThrow();
  });
});

describe('lanes whose restore is gone', () => {
  it('show failed with the reason, and lane gc picks them', async () => {
    const later = new Date('2026-11-25T14:00:00.000Z');
    expect(effectiveState(entry({ intent: intent('aaaaaaaa') }), NOW)).toEqual({ state: 'restoring', reason: null });
    expect(effectiveState(entry({ intent: intent('aaaaaaaa') }), later)).toEqual({
      state: 'failed',
      reason:
        'the restore by restore --lane fx on other-host (pid 100) since 2026-11-25T13:00:00.000Z stopped: its heartbeat lapsed at 2026-11-25T13:00:30.000Z',
    });
    expect(effectiveState(withFailure(entry(), 'HTTP 404', NOW), NOW)).toEqual({ state: 'failed', reason: 'HTTP 404' });
    expect(effectiveState(entry({ state: 'ready' }), later)).toEqual({ state: 'ready', reason: null });
    const dead = intent('bbbbbbbb', { holder: { ...thisProcess(), pid: await deadPid(), command: 'restore --lane gx' } });
    const lanes = [
      entry({ lane: 'live', intent: intent('aaaaaaaa', { heartbeatAt: later.toISOString() }) }),
      entry({ lane: 'dead', intent: dead }),
      entry({ lane: 'done', state: 'ready' }),
      entry({ lane: 'newer', format: 3, intent: dead }),
    ];
    expect(abandonedLanes(lanes, later).map((e) => e.lane)).toEqual(['dead']);
  });
});
