import type { Detector } from './detector.js';
import { sqlInjection } from './sqli.js';
import { crossSiteScripting } from './xss.js';
import { pathTraversal } from './traversal.js';
import { sensitiveFile } from './sensitive.js';
import { scannerAgent } from './scanner.js';
import { commandInjection } from './cmdi.js';
import { templateInjection } from './template.js';
import { jndiLookup } from './jndi.js';
import { codeInjection } from './code.js';
import { noSqlInjection } from './nosql.js';
import { serverSideRequestForgery } from './ssrf.js';
import { credentialsInQuery } from './credentials.js';
import { weakJwt } from './jwt.js';
import { remoteFileInclusion } from './rfi.js';
import { protocolViolation } from './protocol.js';

export type { Detector };

/** The detectors rules can call with `detector: <name>`. */
export const DETECTORS: ReadonlyMap<string, Detector> = new Map([
  sqlInjection, crossSiteScripting, pathTraversal, sensitiveFile, scannerAgent, commandInjection, templateInjection, jndiLookup,
  codeInjection, noSqlInjection, serverSideRequestForgery, remoteFileInclusion, credentialsInQuery, weakJwt, protocolViolation,
].map((detector) => [detector.name, detector]));
