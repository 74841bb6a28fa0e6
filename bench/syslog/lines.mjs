// The RFC 5424 lines of the syslog benchmark, shared by the load generator and the stage benchmark.

const APPS = ['sshd', 'sudo', 'nginx', 'cron', 'kernel', 'api-gateway'];

/** Builds RFC 5424 message number `n`, with structured data and without a trailer. */
export function line(n) {
  const app = APPS[n % APPS.length];
  const second = String(n % 60).padStart(2, '0');
  const fraction = String(n % 1000000).padStart(6, '0');
  return `<${(n % 24) * 8 + (n % 8)}>1 2024-05-01T10:00:${second}.${fraction}Z host${n % 50}.example.com ${app} ${1000 + (n % 9000)} ID${n % 100} [meta@32473 seq="${n}"] request ${n} from 198.51.100.${n % 250} user=u${n % 977} status=${n % 7 === 0 ? 500 : 200}`;
}

/** Builds `count` LF-framed messages numbered from `offset`, as one buffer. */
export function chunk(offset, count = 1000) {
  const lines = [];
  for (let i = 0; i < count; i++) lines.push(`${line(offset + i)}\n`);
  return Buffer.from(lines.join(''));
}
