import { ValueCache, type Detector } from './detector.js';
import { NeedleSet } from './needles.js';
import type { EventView } from '../view.js';

/**
 * User-agent substrings of vulnerability scanners, fuzzers, brute-forcers and mass scanners,
 * lower-case. General HTTP libraries (curl, python-requests, Go-http-client) are not on the list:
 * benign API clients use them too, so they are judged by behaviour, not by name.
 */
export const SCANNER_AGENTS = [
  'sqlmap', 'nikto', 'nmap', 'masscan', 'zgrab', 'nuclei', 'dirbuster', 'gobuster', 'wfuzz', 'ffuf', 'feroxbuster',
  'acunetix', 'netsparker', 'invicti', 'w3af', 'openvas', 'nessus', 'wpscan', 'whatweb', 'jorgee', 'zmeu', 'morfeus',
  'hydra', 'medusa', 'arachni', 'skipfish', 'commix', 'xsstrike', 'dirb/', 'dirb ', 'paros', 'webinspect', 'appscan',
  'qualys', 'burpcollaborator', 'interactsh', 'zap/', 'owasp zap', 'havij', 'pangolin', 'bsqlbf', 'fimap', 'joomscan',
  'droopescan', 'cmsmap', 'wapiti', 'vega/', 'grabber', 'nmap scripting engine', 'sqlninja', 'absinthe', 'brutus',
  'webshag', 'uniscan', 'blackwidow', 'nsauditor', 'jaeles', 'httpx - open-source', 'fuzz faster u fool', 'dotdotpwn',
  'pmafind', 'censysinspect', 'netcraftsurvey', 'internet-measurement', 'l9explore', 'l9tcpid', 'expanse',
];

/** Paths that only scanners request, lower-case: their own calling cards and probes for well-known backdoors. */
export const SCANNER_PATHS = ['/w00tw00t.at.', '/muieblackcat', '/nice ports,/trinity.txt.bak', '/phpmyadmin/scripts/setup.php', '/.well-known/traffic-advice.php', '/hnap1', '/boaform/admin/formlogin', '/cgi-bin/luci/;stok=', '/vendor/phpunit/phpunit/src/util/php/eval-stdin.php'];

const AGENT_SET = new NeedleSet(SCANNER_AGENTS);
const agents = new ValueCache();

export function detectScannerAgent(agent: string): string | undefined {
  if (agent.length === 0) return undefined;
  return AGENT_SET.first(agent)?.trim().replace(/\/$/, '');
}

export const scannerAgent: Detector = {
  name: 'scanner_user_agent',
  description: 'User agents of vulnerability scanners, fuzzers and brute-force tools, and paths only scanners request.',
  detect: (view: EventView) => {
    const found = agents.get(view.userAgent, detectScannerAgent);
    if (found) return `user_agent.original: ${found}`;
    const path = view.path;
    const probe = SCANNER_PATHS.find((candidate) => path.startsWith(candidate));
    return probe ? `url.path: scanner probe ${probe}` : undefined;
  },
};
