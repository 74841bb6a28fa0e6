import type { Detector } from './detector.js';
import type { EventView } from '../view.js';

/*
 * Requests for files that leak secrets or internals: version-control folders, environment and
 * credential files, tool and editor settings, backups, database dumps and archives of the site,
 * and status pages of servers and frameworks. Matching is on the decoded, lower-cased path, and
 * on parameter values that name a file.
 */

/** Path segments (or segment prefixes) that are sensitive wherever they appear. */
const SENSITIVE_SEGMENTS = [
  '.env', '.git', '.svn', '.hg', '.bzr', '.cvs', '.ds_store', '.htpasswd', '.htaccess', '.aws', '.ssh', '.npmrc', '.pypirc', '.netrc',
  '.vscode', '.idea', '.dockerenv', '.bash_history', '.zsh_history', '.docker', '.kube', '.terraform', '.gnupg', '.config', '.s3cfg',
  '.git-credentials', '.pgpass', '.my.cnf', '.boto', '.composer', '.circleci', '.gitlab-ci.yml', '.travis.yml', '.github',
  'id_rsa', 'id_dsa', 'id_ecdsa', 'id_ed25519', 'web.config', 'docker-compose.yml', 'docker-compose.yaml', 'phpinfo.php', 'info.php',
  'server-status', 'server-info', 'wp-config.php.bak', 'terraform.tfstate', 'credentials.json', 'secrets.yml', 'secrets.json',
  'config.json.bak', 'elmah.axd', 'trace.axd', 'debug.log', 'error_log', 'heapdump', 'jolokia', 'sftp-config.json', 'sftp.json',
  // Settings folders of AI coding assistants, which hold API keys and project instructions.
  '.claude', '.cursor', '.continue', '.aider', '.roo', '.zed', '.cline', '.kiro', '.windsurf', '.rovodev', '.codex', '.opencode',
  '.a0proj', '.plandex', '.fabric', '.n8n', '.junie', '.copilot', '.gemini', '.codeium', '.tabnine', '.amazonq',
];
/** Spring Boot actuator endpoints that expose configuration or memory. */
const ACTUATOR_ENDPOINTS = ['env', 'heapdump', 'threaddump', 'configprops', 'mappings', 'beans', 'jolokia', 'logfile', 'trace', 'httptrace', 'gateway', 'shutdown', 'loggers'];
/** Suffixes of editor and backup copies of source files. */
const BACKUP_SUFFIXES = ['.bak', '.old', '.orig', '.save', '.swp', '.swo', '~', '.backup', '.tmp', '.copy', '.bk', '.sav'];
const SOURCE_EXTENSIONS = ['.php', '.asp', '.aspx', '.jsp', '.py', '.rb', '.js', '.config', '.conf', '.ini', '.yml', '.yaml', '.xml', '.json', '.env', '.inc', '.cfg', '.sql'];
const DUMP_EXTENSIONS = ['.sql', '.sql.gz', '.sql.zip', '.sql.bz2', '.sql.tar.gz', '.dump', '.db', '.sqlite', '.sqlite3', '.mdb', '.bak.sql'];
const ARCHIVE_EXTENSIONS = ['.zip', '.tar', '.tar.gz', '.tgz', '.tar.bz2', '.rar', '.7z', '.gz'];
/** Archive names that mean "the whole site or database", not a product download. */
const ARCHIVE_NAMES = ['backup', 'backups', 'site', 'www', 'wwwroot', 'web', 'html', 'public_html', 'htdocs', 'db', 'database', 'dump', 'data', 'old', 'new', 'test', 'src', 'source', 'app', 'code', 'files', 'home', 'root', 'admin', 'export'];

/** Hidden files and folders a web root may hold by accident; `.well-known` is the one meant to be public (RFC 8615). */
function isHiddenSegment(segment: string): boolean {
  return segment.length > 1 && segment[0] === '.' && /[a-z_]/.test(segment[1]) && segment !== '.well-known';
}

const SENSITIVE_SET = new Set(SENSITIVE_SEGMENTS);

/** Finds a sensitive name as the whole segment, or followed by `.`, `-`, `_` or `~` (`.env.local`, `.git~`). */
function segmentMatch(segment: string): string | undefined {
  if (SENSITIVE_SET.has(segment)) return segment;
  for (let i = 1; i < segment.length; i++) {
    const char = segment[i];
    if ((char === '.' || char === '-' || char === '_' || char === '~') && SENSITIVE_SET.has(segment.slice(0, i))) return segment.slice(0, i);
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
    if (isHiddenSegment(segment)) return `hidden file ${segment.slice(0, 32)}`;
    if (segment === 'actuator' && (i === segments.length - 1 || ACTUATOR_ENDPOINTS.includes(segments[i + 1]))) return 'actuator endpoint';
  }
  const name = segments[segments.length - 1] ?? '';
  const backup = BACKUP_SUFFIXES.find((suffix) => name.endsWith(suffix));
  if (backup && SOURCE_EXTENSIONS.some((extension) => name.slice(0, -backup.length).endsWith(extension))) return `backup copy (${backup})`;
  if (name.endsWith('.log') && name.length > 4) return `log file (${name.slice(0, 32)})`;
  const dump = DUMP_EXTENSIONS.find((extension) => name.endsWith(extension) && name.length > extension.length);
  if (dump) return `database dump (${dump})`;
  const archive = ARCHIVE_EXTENSIONS.find((extension) => name.endsWith(extension));
  if (archive && ARCHIVE_NAMES.includes(name.slice(0, -archive.length))) return `site archive (${name})`;
  return undefined;
}

/** Parameter values that name a file: no spaces, a dot or slash, and short. */
function looksLikeFile(value: string): boolean {
  return value.length > 2 && value.length < 256 && value.indexOf(' ') < 0 && (value.indexOf('.') >= 0 || value.indexOf('/') >= 0) && value.indexOf('://') < 0;
}

export const sensitiveFile: Detector = {
  name: 'sensitive_file',
  description: 'Requests for secrets and internals: .env, .git/, credentials, backups, dumps, status pages, actuator endpoints.',
  detect: (view: EventView) => {
    const found = detectSensitiveFile(view.path);
    if (found) return `url.path: ${found}`;
    for (const { location, value } of view.query) {
      if (!looksLikeFile(value)) continue;
      const inValue = detectSensitiveFile(value);
      if (inValue) return `${location}: ${inValue}`;
    }
    return undefined;
  },
};
