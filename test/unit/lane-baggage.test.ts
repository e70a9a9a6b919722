import {
  isBaggageKey,
  isBaggageKeyBytes,
  laneBaggageValue,
  MAX_BAGGAGE_BYTES,
  setBaggageMember,
  validateBaggageKey,
  withLaneBaggage,
} from '../../src/lane/baggage';

const h = (key: string, value: string | Buffer | null) => ({ key, value: typeof value === 'string' ? Buffer.from(value) : value });

describe('setBaggageMember', () => {
  it('replaces the value of an existing member, keeping whitespace, order and properties', () => {
    expect(setBaggageMember('userId=alice,lane=baseline,serverNode=DF%2028', 'lane', 'fx')).toEqual({
      value: 'userId=alice,lane=fx,serverNode=DF%2028',
      outcome: 'replaced',
    });
    expect(setBaggageMember('a=1 , lane = old ;ttl=3;flag, b=2', 'lane', 'fx')).toEqual({ value: 'a=1 , lane = fx ;ttl=3;flag, b=2', outcome: 'replaced' });
    expect(setBaggageMember('lane=a,x=1,lane=b', 'lane', 'fx').value).toBe('lane=fx,x=1,lane=fx');
    expect(setBaggageMember('lane=', 'lane', 'fx').value).toBe('lane=fx');
  });

  it('appends when no member has the key (keys are case-sensitive)', () => {
    expect(setBaggageMember('userId=alice', 'lane', 'fx')).toEqual({ value: 'userId=alice,lane=fx', outcome: 'appended' });
    expect(setBaggageMember('Lane=x', 'lane', 'fx').value).toBe('Lane=x,lane=fx');
    expect(setBaggageMember('lanes=x', 'lane', 'fx').value).toBe('lanes=x,lane=fx');
  });

  it('reports an unchanged value', () => {
    expect(setBaggageMember('lane=fx', 'lane', 'fx')).toEqual({ value: 'lane=fx', outcome: 'unchanged' });
  });

  it('creates the member in an empty value', () => {
    expect(setBaggageMember('', 'lane', 'fx')).toEqual({ value: 'lane=fx', outcome: 'created' });
    expect(setBaggageMember('  ', 'lane', 'fx').outcome).toBe('created');
  });

  it('leaves values that are not valid baggage alone', () => {
    for (const bad of ['justtext', 'a=1,,b=2', 'a=1,', '=1', 'a b=1', 'a="quoted"', 'a=x y', 'a=1;', 'a=1;=x', 'a=ü', 'a=1\\2']) {
      expect(setBaggageMember(bad, 'lane', 'fx')).toEqual({ value: bad, outcome: 'invalid' });
    }
  });

  it('respects the W3C limits: 180 members, 8192 bytes', () => {
    const members = Array.from({ length: 180 }, (_, i) => `k${i}=v`).join(',');
    expect(setBaggageMember(members, 'lane', 'fx').outcome).toBe('invalid');
    expect(setBaggageMember(`${members.replace('k0=v', 'lane=v')}`, 'lane', 'fx').outcome).toBe('replaced');
    const big = `a=${'x'.repeat(MAX_BAGGAGE_BYTES - 2 - 4)}`; // exactly 8188 bytes
    expect(setBaggageMember(big, 'lane', 'fx').outcome).toBe('invalid'); // +8 bytes: above 8192
    expect(setBaggageMember(big, 'l', 'f').outcome).toBe('appended'); // +4 bytes: exactly 8192
  });
});

describe('withLaneBaggage', () => {
  it('sets the member in the first baggage header only; every other header keeps its bytes', () => {
    const headers = [h('traceparent', '00-abc-01'), h('baggage', 'a=1'), h('x', Buffer.from([0, 255])), h('baggage', 'lane=other'), h('n', null)];
    const r = withLaneBaggage(headers, 'lane', 'fx');
    expect(r.outcome).toBe('appended');
    expect(r.headers.map((x) => x.key)).toEqual(['traceparent', 'baggage', 'x', 'baggage', 'n']);
    expect(r.headers[1]!.value!.toString()).toBe('a=1,lane=fx');
    expect(r.headers[0]).toBe(headers[0]);
    expect(r.headers[2]).toBe(headers[2]);
    expect(r.headers[3]!.value!.toString()).toBe('lane=other');
    expect(r.headers[4]!.value).toBeNull();
    expect(headers[1]!.value!.toString()).toBe('a=1');
  });

  it('creates a baggage header at the end when there is none', () => {
    const r = withLaneBaggage([h('a', 'b')], 'lane', 'fx');
    expect(r.outcome).toBe('created');
    expect(r.headers).toEqual([h('a', 'b'), h('baggage', 'lane=fx')]);
  });

  it('matches the header name case-insensitively and keeps its spelling', () => {
    const r = withLaneBaggage([h('Baggage', 'lane=x')], 'lane', 'fx');
    expect(r.headers).toEqual([h('Baggage', 'lane=fx')]);
  });

  it('leaves a null or non-UTF-8 baggage value alone', () => {
    expect(withLaneBaggage([h('baggage', null)], 'lane', 'fx').outcome).toBe('invalid');
    const bin = h('baggage', Buffer.from([0x61, 0x3d, 0xc3]));
    const r = withLaneBaggage([bin], 'lane', 'fx');
    expect(r.outcome).toBe('invalid');
    expect(r.headers[0]).toBe(bin);
  });

  it('validates the key', () => {
    expect(validateBaggageKey('lane')).toBe('lane');
    for (const bad of ['', 'a b', 'a=b', 'a,b', 'ü']) expect(() => validateBaggageKey(bad)).toThrow(/--lane-baggage/);
  });
});

describe('the transcoder side (bytes)', () => {
  it('isBaggageKeyBytes matches exactly the keys isBaggageKey matches', () => {
    const keys = [
      'baggage',
      'baggage2',
      'bággage',
      'b\u0430ggage',
      'baggag',
      ' baggage',
      '\uFEFFbaggage',
      'BAGGAGE\u0000',
      'bagg@ge',
      'bAGGAGe',
      'Baggage',
      '',
    ];
    // Every letter case of "baggage".
    for (let m = 0; m < 128; m++) keys.push([...'baggage'].map((c, i) => (m & (1 << i) ? c.toUpperCase() : c)).join(''));
    // Other bytes where a letter of "baggage" would be (a control character, punctuation).
    keys.push('\u0002aggage', 'b!ggage', 'ba\u0007gage');
    for (const k of keys) {
      const b = Buffer.concat([Buffer.from('xx'), Buffer.from(k, 'utf8'), Buffer.from('yy')]);
      expect([k, isBaggageKeyBytes(b, 2, Buffer.byteLength(k))]).toEqual([k, isBaggageKey(k)]);
    }
  });

  it('laneBaggageValue gives the bytes withLaneBaggage puts in the header, or null to keep it', () => {
    expect(laneBaggageValue(Buffer.from('a=1'), 'lane', 'fx')).toEqual({ value: Buffer.from('a=1,lane=fx'), outcome: 'appended' });
    expect(laneBaggageValue(Buffer.from(' lane = old ;p'), 'lane', 'fx')).toEqual({ value: Buffer.from(' lane = fx ;p'), outcome: 'replaced' });
    expect(laneBaggageValue(Buffer.from('\uFEFFlane=x'), 'lane', 'fx')).toEqual({ value: null, outcome: 'invalid' }); // a BOM is not OWS
    expect(laneBaggageValue(Buffer.alloc(0), 'lane', 'fx')).toEqual({ value: Buffer.from('lane=fx'), outcome: 'created' });
    expect(laneBaggageValue(Buffer.from('lane=fx'), 'lane', 'fx')).toEqual({ value: null, outcome: 'unchanged' });
    expect(laneBaggageValue(null, 'lane', 'fx')).toEqual({ value: null, outcome: 'invalid' });
    expect(laneBaggageValue(Buffer.from([0xc3, 0x28]), 'lane', 'fx')).toEqual({ value: null, outcome: 'invalid' });
    expect(laneBaggageValue(Buffer.from('no equals'), 'lane', 'fx')).toEqual({ value: null, outcome: 'invalid' });
  });
});
