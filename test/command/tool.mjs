#!/usr/bin/env node
// A small program for command-target tests. Every run appends its argv to $RUNLOG, so a
// test can prove that something did not run.
import { appendFileSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';

const [verb, ...args] = process.argv.slice(2);
if (process.env.RUNLOG) appendFileSync(process.env.RUNLOG, `${JSON.stringify(process.argv.slice(2))}\n`);
const read = (f) => {
  try {
    return Number(readFileSync(f, 'utf8')) || 0;
  } catch {
    return 0;
  }
};

switch (verb) {
  case 'env':
    // Prints its whole environment, as a careless script might.
    process.stdout.write(`${JSON.stringify({ env: process.env, cwd: process.cwd() })}\n`);
    break;
  case 'mode':
    process.stdout.write(`${(statSync(process.cwd()).mode & 0o777).toString(8)}\n`);
    break;
  case 'b64env':
    // A secret in another form than it was written: base64.
    process.stdout.write(`${Buffer.from(process.env.API_TOKEN ?? '').toString('base64')}\n`);
    break;
  case 'print':
    process.stdout.write(`${args.join(' ')}\n`);
    break;
  case 'files': {
    const stdin = readFileSync(0, 'utf8');
    const files = Object.fromEntries(readdirSync(process.cwd()).map((f) => [f, readFileSync(f, 'utf8')]));
    process.stdout.write(`${JSON.stringify({ stdin, files })}\n`);
    break;
  }
  case 'preview':
    // The preview of `bump FILE`: what it would do, from the state as it is now.
    if (args[0] === 'bump') process.stdout.write(`would set ${args[1]} from ${read(args[1])} to ${read(args[1]) + 1}\n`);
    break;
  case 'bump':
    writeFileSync(args[0], String(read(args[0]) + 1));
    process.stdout.write(`set ${args[0]} to ${read(args[0])}\n`);
    break;
  case 'hang': {
    // A grandchild in the same process group, then wait forever: the timeout must take both.
    const child = spawn('sleep', ['60'], { stdio: 'ignore' });
    process.stdout.write(`grandchild ${child.pid}\n`);
    setInterval(() => undefined, 1000);
    break;
  }
  case 'slow':
    // Takes SECONDS, then bumps FILE: long enough to be cut off mid-run.
    setTimeout(() => {
      writeFileSync(args[0], String(read(args[0]) + 1));
      process.stdout.write('done\n');
    }, Number(args[1]) * 1000);
    break;
  case 'exit':
    process.stderr.write(`exiting ${args[0]}\n`);
    process.exit(Number(args[0]));
    break;
  case 'spam':
    process.stdout.write('x'.repeat(Number(args[0])));
    break;
  default:
    process.stderr.write(`unknown verb ${verb}\n`);
    process.exit(2);
}
