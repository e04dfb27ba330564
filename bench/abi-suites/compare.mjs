// Compares one suite's host and guest logs (Go `-test.v` or Python
// `-m test -v` output) and prints a table row plus the tests that failed only
// in the guest, each with the first line of why.
//   node compare.mjs go|py SUITE HOST.log GUEST.log GUEST-STATUS
import { readFileSync } from 'node:fs';

const [kind, suite, hostLog, guestLog, guestStatus] = process.argv.slice(2);

/** test name -> { result: pass|fail|skip, why } */
function parseGo(text) {
  const out = new Map();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^\s*--- (PASS|FAIL|SKIP): (\S+)/.exec(lines[i]);
    if (!m) continue;
    const result = m[1] === 'PASS' ? 'pass' : m[1] === 'FAIL' ? 'fail' : 'skip';
    let why = '';
    if (result === 'fail') {
      // The test's log lines ("file_test.go:NN: message") come before or after its --- FAIL line.
      const logLine = (l) => /^\s+\S+\.go:\d+: /.test(l);
      for (let j = i - 1; j >= 0 && !lines[j].startsWith(`=== RUN   ${m[2]}`); j--)
        if (logLine(lines[j])) why = lines[j];
      for (let j = i + 1; !why && j < lines.length && j < i + 8; j++) {
        if (/^\s*(---|===)/.test(lines[j])) break;
        if (lines[j].trim()) why = lines[j];
      }
      why = why.trim();
    }
    out.set(m[2], { result, why });
  }
  // A test binary that died (panic, timeout) leaves the running test unreported.
  const panic = /^(panic: .*|fatal error: .*)$/m.exec(text);
  if (panic) {
    const running = [...text.matchAll(/^=== RUN\s+(\S+)/gm)].map((r) => r[1]).filter((n) => !out.has(n));
    for (const n of running.slice(-1)) out.set(n, { result: 'fail', why: panic[1] });
  }
  return out;
}

function parsePy(text) {
  const out = new Map();
  for (const m of text.matchAll(
    /^(test\w*) \(([\w.]+)\)(?:\n.*?)?\s\.\.\.\s(ok|FAIL|ERROR|skipped.*|expected failure|unexpected success)$/gm,
  )) {
    const name = `${m[2].replace(/^test\.\w+\./, '')}`;
    const r = m[3];
    const result =
      r === 'ok' || r === 'expected failure' ? 'pass' : r.startsWith('skipped') ? 'skip' : 'fail';
    out.set(name, { result, why: '' });
  }
  // FAIL:/ERROR: sections: the last line of the traceback says why.
  const blocks = text.split(/^={50,}$/m);
  for (const b of blocks) {
    const h = /^(FAIL|ERROR): (test\w*) \(([\w.]+)\)/m.exec(b);
    if (!h) continue;
    const name = h[3].replace(/^test\.\w+\./, '');
    const body = b.split(/^-{50,}$/m)[1] ?? '';
    const lines = body
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('Ran '));
    const why = lines.at(-1) ?? '';
    const prev = out.get(name);
    out.set(name, { result: 'fail', why: why || (prev?.why ?? '') });
  }
  return out;
}

function read(path) {
  try {
    return readFileSync(path, 'utf8').replaceAll('\r', '');
  } catch {
    return '';
  }
}

const parse = kind === 'go' ? parseGo : parsePy;
const hostText = read(hostLog);
const guestText = read(guestLog);
const host = parse(hostText);
const guest = parse(guestText);
let both = 0;
let hostFail = 0;
const onlyGuest = [];
const missing = [];
for (const [name, h] of host) {
  const g = guest.get(name);
  if (h.result === 'fail') hostFail++;
  if (h.result !== 'pass') continue;
  if (!g) missing.push(name);
  else if (g.result === 'pass') both++;
  else if (g.result === 'fail') onlyGuest.push([name, g.why]);
}
const finished =
  kind === 'go'
    ? /^(ok|PASS|FAIL)\s*$/m.test(guestText) || /^(PASS|FAIL)$/m.test(guestText)
    : /^(Total duration|Tests result|== Tests result)/m.test(guestText);
const end = finished ? 'finished' : `did not finish (osvb run status ${guestStatus})`;
console.log(
  `| ${kind === 'go' ? 'Go' : 'Python'} ${suite} | ${both} | ${onlyGuest.length} | ${missing.length} | ${hostFail} | ${end} |`,
);
for (const [name, why] of onlyGuest) console.log(`    guest-only failure: ${name}: ${why.slice(0, 160)}`);
if (missing.length)
  console.log(
    `    passed on the host, not run in the guest: ${missing.slice(0, 8).join(', ')}${missing.length > 8 ? ', ...' : ''}`,
  );
