import type { Detector } from './detector.js';
import { NeedleSet } from './needles.js';
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

/** The last extensions of every backup, log, dump and archive name above (`.gz` of `.sql.gz`), to rule the rest out at once. */
const FINAL_EXTENSIONS = new Set([...BACKUP_SUFFIXES, '.log', ...DUMP_EXTENSIONS, ...ARCHIVE_EXTENSIONS].map((suffix) => suffix.slice(suffix.lastIndexOf('.'))));

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

/** Sensitive names and `actuator`: a path without any of them, and without a hidden segment, needs only the file-name checks. */
const SEGMENT_NAMES = new NeedleSet([...SENSITIVE_SEGMENTS, 'actuator']);

/** Checks a decoded, lower-cased path; returns what was found, or undefined. */
export function detectSensitiveFile(path: string): string | undefined {
  if (path[0] !== '.' && path.indexOf('/.') < 0 && SEGMENT_NAMES.first(path) === undefined) return fileNameMatch(lastSegment(path));
  const segments = path.split('/');
  let name = '';
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (segment.length === 0) continue;
    name = segment;
    const sensitive = segmentMatch(segment);
    if (sensitive) return sensitive;
    if (isHiddenSegment(segment)) return `hidden file ${segment.slice(0, 32)}`;
    if (segment === 'actuator') {
      let next = i + 1;
      while (next < segments.length && segments[next].length === 0) next++;
      if (next === segments.length || ACTUATOR_ENDPOINTS.includes(segments[next])) return 'actuator endpoint';
    }
  }
  return fileNameMatch(name);
}

/** Returns the last segment that is not empty. */
function lastSegment(path: string): string {
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 0x2f) end--;
  return path.slice(path.lastIndexOf('/', end - 1) + 1, end);
}

/** Checks the last segment for backup, log, dump and archive names, which all end in `.` and a suffix or in `~`. */
function fileNameMatch(name: string): string | undefined {
  if (!name.endsWith('~') && !FINAL_EXTENSIONS.has(name.slice(name.lastIndexOf('.')))) return undefined;
  for (const backup of BACKUP_SUFFIXES) {
    if (!name.endsWith(backup)) continue;
    const stem = name.slice(0, -backup.length);
    if (SOURCE_EXTENSIONS.some((extension) => stem.endsWith(extension))) return `backup copy (${backup})`;
    break;
  }
  if (name.endsWith('.log') && name.length > 4) return `log file (${name.slice(0, 32)})`;
  for (const dump of DUMP_EXTENSIONS) if (name.endsWith(dump) && name.length > dump.length) return `database dump (${dump})`;
  for (const archive of ARCHIVE_EXTENSIONS) {
    if (!name.endsWith(archive)) continue;
    return ARCHIVE_NAMES.includes(name.slice(0, -archive.length)) ? `site archive (${name})` : undefined;
  }
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
