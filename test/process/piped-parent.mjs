// The parent a supervisor or a shell pipeline is: it starts `payrail serve` with its stdout and stderr
// piped to itself, and, told to (a line on its stdin), sends SIGTERM and exits at once, closing its end of
// the pipes while payrail may still be writing to them. Reports on its own stdout, one JSON line:
// { pid, url } once payrail listens, or { exited, output } if payrail ends before that.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const root = process.argv[2];
const payrail = spawn(process.execPath, [join(root, 'bin', 'payrail.js'), 'serve'], { cwd: root, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
let output = '';
let listening = false;
const collect = (chunk) => {
  output += String(chunk);
  const m = listening ? null : /payrail is listening on (http:\/\/\S+)/.exec(output);
  if (m) {
    listening = true;
    process.stdout.write(`${JSON.stringify({ pid: payrail.pid, url: m[1] })}\n`);
  }
};
payrail.stdout.on('data', collect);
payrail.stderr.on('data', collect);
payrail.on('exit', (code, signal) => {
  process.stdout.write(`${JSON.stringify({ exited: code ?? signal, output })}\n`);
  process.exit(1);
});
process.stdin.once('data', () => {
  payrail.kill('SIGTERM');
  process.exit(0);
});
