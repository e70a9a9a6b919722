import { runInPty } from '../support/pty';

// The pty helper is what the golden tests of terminal output stand on: check it gives a
// terminal of the asked width and passes the exit code through.
it('runs a command in a terminal of the given width', async () => {
  const r = await runInPty([process.execPath, '-e', 'process.stdout.write(`${process.stdout.isTTY} ${process.stdout.columns}\n`); process.exit(3)'], {
    columns: 93,
  });
  expect(r.output.trim()).toBe('true 93');
  expect(r.code).toBe(3);
});
