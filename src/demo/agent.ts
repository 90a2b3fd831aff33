// A standalone script the demo runs inside a namespace (`ip netns exec NS node agent.js ...`):
//   agent.js server PORT        TCP echo server; prints {"peer":ADDR} per connection (the wan's
//                               view of who connects: proves the masquerade)
//   agent.js client HOST PORT   one long TCP session, a line every 10 ms, each waited for;
//                               prints {"sent","echoed"} every 100 ms and a final line with
//                               "broke" (null if the session held) on SIGTERM or on error.
// One JSON object per line on stdout, so the demo can show the numbers as they happen.
import { createConnection, createServer } from 'node:net';

const out = (o: object): void => { process.stdout.write(`${JSON.stringify(o)}\n`); };
const [mode, a1, a2] = process.argv.slice(2);

if (mode === 'server') {
  createServer((sock) => {
    out({ peer: sock.remoteAddress?.replace(/^::ffff:/, '') ?? '?' });
    sock.on('error', () => undefined);
    sock.pipe(sock);
  }).listen(Number(a1), '0.0.0.0', () => out({ listening: Number(a1) }));
} else if (mode === 'client') {
  let sent = 0;
  let echoed = 0;
  let broke: string | null = null;
  let pending = '';
  const sock = createConnection({ host: a1 ?? '', port: Number(a2), noDelay: true });
  const finish = (): void => { out({ sent, echoed, broke }); process.exit(0); };
  const send = (): void => { sock.write(`${sent}\n`); sent++; };
  // A session that stalls for 3 s counts as broken, as a user's ssh would feel it.
  let stall: NodeJS.Timeout | undefined;
  const arm = (): void => { clearTimeout(stall); stall = setTimeout(() => { broke = 'no echo for 3 s'; finish(); }, 3000); };
  sock.on('connect', () => { arm(); send(); });
  sock.on('data', (d: Buffer) => {
    pending += d.toString();
    while (pending.includes('\n')) {
      pending = pending.slice(pending.indexOf('\n') + 1);
      echoed++;
      arm();
      setTimeout(send, 10);
    }
  });
  sock.on('error', (e) => { broke = e.message; finish(); });
  sock.on('close', () => { if (broke === null) broke = 'closed by peer'; finish(); });
  setInterval(() => out({ sent, echoed }), 100).unref();
  process.on('SIGTERM', () => { sock.removeAllListeners('close'); finish(); });
} else {
  process.stderr.write('usage: agent.js server PORT | client HOST PORT\n');
  process.exit(2);
}
