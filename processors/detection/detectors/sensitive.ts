import type { Detector } from './detector.js';
import type { EventView } from '../view.js';

/*
 * Requests for files that leak secrets or internals: version-control folders, environment and
 * credential files, editor backups, database dumps and archives of the site, and status pages
 * of servers and frameworks. Matching is on the decoded, lower-cased path.
 */

/** Path segments (or segment prefixes) that are sensitive wherever they appear. */
const SENSITIVE_SEGMENTS = [
  '.env', '.git', '.svn', '.hg', '.bzr', '.ds_store', '.htpasswd', '.htaccess', '.aws', '.ssh', '.npmrc', '.pypirc',
  '.vscode', '.idea', '.dockerenv', '.bash_history', '.docker', '.kube', 'id_rsa', 'id_dsa', 'id_ecdsa', 'id_ed25519',
  'web.config', 'docker-compose.yml', 'docker-compose.yaml', 'phpinfo.php', 'server-status', 'server-info',
  'wp-config.php.bak', '.terraform', 'terraform.tfstate', 'credentials.json', 'secrets.yml', 'secrets.json',
];
/** Spring Boot actuator endpoints that expose configuration or memory. */
const ACTUATOR_ENDPOINTS = ['env', 'heapdump', 'threaddump', 'configprops', 'mappings', 'beans', 'jolokia', 'logfile', 'trace', 'httptrace', 'gateway'];
/** Suffixes of editor and backup copies of source files. */
const BACKUP_SUFFIXES = ['.bak', '.old', '.orig', '.save', '.swp', '.swo', '~', '.backup', '.tmp', '.copy'];
const SOURCE_EXTENSIONS = ['.php', '.asp', '.aspx', '.jsp', '.py', '.rb', '.js', '.config', '.conf', '.ini', '.yml', '.yaml', '.xml', '.json', '.env', '.inc', '.cfg'];
const DUMP_EXTENSIONS = ['.sql', '.sql.gz', '.sql.zip', '.sql.bz2', '.dump', '.db', '.sqlite', '.sqlite3', '.mdb'];
const ARCHIVE_EXTENSIONS = ['.zip', '.tar', '.tar.gz', '.tgz', '.tar.bz2', '.rar', '.7z', '.gz'];
/** Archive names that mean "the whole site or database", not a product download. */
const ARCHIVE_NAMES = ['backup', 'backups', 'site', 'www', 'wwwroot', 'web', 'html', 'public_html', 'htdocs', 'db', 'database', 'dump', 'data', 'old', 'new', 'test', 'src', 'source', 'app', 'code', 'files', 'home', 'root', 'admin', 'export'];

function segmentMatch(segment: string): string | undefined {
  for (const sensitive of SENSITIVE_SEGMENTS) {
    if (segment === sensitive || (segment.startsWith(sensitive) && /^[.\-_~]/.test(segment.slice(sensitive.length)))) return sensitive;
  }
  return undefined;
}

/** Checks a decoded, lower-cased path; returns what was found, or undefined. */
export function detectSensitiveFile(path: string): string | undefined {
  const segments = path.split('/').filter((segment) => segment.length > 0);
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    const sensitive = segmentMatch(segment);
    if (sensitive) return sensitive;
    if (segment === 'actuator' && (i === segments.length - 1 || ACTUATOR_ENDPOINTS.includes(segments[i + 1]))) return 'actuator endpoint';
  }
  const name = segments[segments.length - 1] ?? '';
  const backup = BACKUP_SUFFIXES.find((suffix) => name.endsWith(suffix));
  if (backup && SOURCE_EXTENSIONS.some((extension) => name.slice(0, -backup.length).endsWith(extension))) return `backup copy (${backup})`;
  const dump = DUMP_EXTENSIONS.find((extension) => name.endsWith(extension));
  if (dump) return `database dump (${dump})`;
  const archive = ARCHIVE_EXTENSIONS.find((extension) => name.endsWith(extension));
  if (archive && ARCHIVE_NAMES.includes(name.slice(0, -archive.length))) return `site archive (${name})`;
  return undefined;
}

export const sensitiveFile: Detector = {
  name: 'sensitive_file',
  description: 'Requests for secrets and internals: .env, .git/, credentials, backups, dumps, status pages, actuator endpoints.',
  detect: (view: EventView) => {
    const found = detectSensitiveFile(view.path);
    return found ? `url.path: ${found}` : undefined;
  },
};
