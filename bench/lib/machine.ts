import { execFileSync } from 'node:child_process';
import { cpus, loadavg, release, totalmem } from 'node:os';

/** The first capture of `re` in a command's output (stdout or stderr), or 'unknown'. */
function probe(cmd: string, args: string[], re: RegExp): string {
  try {
    const r = execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
    return re.exec(r)?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** A Debian package's installed version. */
const deb = (name: string): string => probe('dpkg-query', ['-W', '-f=${Version}', name], /(.+)/);

/** The machine facts the report states next to the numbers. */
export function machineFacts(): Record<string, string> {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: String(cpus().length),
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    kernel: release(),
    node: process.version,
    v2ray: probe('v2ray', ['-version'], /V2Ray (\S+)/),
    nginx: deb('nginx'),
    gcc: probe('gcc', ['--version'], /gcc \(.*?\) (\S+)/),
    microsocks: deb('microsocks'),
    tinyproxy: deb('tinyproxy'),
    'shadowsocks-libev': deb('shadowsocks-libev'),
    trojan: deb('trojan'),
    loadStart: loadavg().map((x) => x.toFixed(2)).join(' '),
  };
}
