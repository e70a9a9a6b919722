/** The command a dry run ends with: the same arguments without --dry-run, shell-quoted, secrets masked. */
import { applyCommand, shellQuote } from '../../src/cli/apply-command';

describe('applyCommand', () => {
  it('drops --dry-run and keeps every other argument in order', () => {
    expect(applyCommand(['restore', '--lane', 'feature-x', '--dry-run', '--ttl', '72h', '--lane-baggage', 'lane']).line).toBe(
      'kbak restore --lane feature-x --ttl 72h --lane-baggage lane',
    );
  });

  it('masks the password flags in both spellings and says so', () => {
    const a = applyCommand(['restore', '--lane', 'x', '--sasl-password', 'p4ss', '--schema-registry-password=r3g', '--dry-run']);
    expect(a.line).toBe("kbak restore --lane x --sasl-password '***' '--schema-registry-password=***'");
    expect(a.masked).toBe(true);
    expect(a.line).not.toMatch(/p4ss|r3g/);
  });

  it("masks a URL's password and query, keeping its user and host", () => {
    const a = applyCommand(['restore', '--schema-registry-url', 'https://bob:s3cret@reg.example/apis/ccompat/v7?token=t0k', '--source', 's3://bucket/p']);
    expect(a.line).toBe("kbak restore --schema-registry-url 'https://bob:***@reg.example/apis/ccompat/v7?***' --source s3://bucket/p");
    expect(a.line).not.toMatch(/s3cret|t0k/);
    expect(a.masked).toBe(true);
    expect(applyCommand(['restore', '--source', '/backups/x']).masked).toBe(false);
  });

  it('quotes what a shell would split or expand', () => {
    expect(shellQuote('{lane}.{topic}')).toBe("'{lane}.{topic}'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('$HOME')).toBe("'$HOME'");
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote('plain-1.2/x')).toBe('plain-1.2/x');
  });
});
