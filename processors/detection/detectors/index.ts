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

/** Every detector, in a fixed order; a detector's position is its index in an `EventView`'s results. */
export const DETECTOR_LIST: readonly Detector[] = [
  sqlInjection, crossSiteScripting, pathTraversal, sensitiveFile, scannerAgent, commandInjection, templateInjection, jndiLookup,
  codeInjection, noSqlInjection, serverSideRequestForgery, remoteFileInclusion, credentialsInQuery, weakJwt, protocolViolation,
];

/** The detectors rules can call with `detector: <name>`. */
export const DETECTORS: ReadonlyMap<string, Detector> = new Map(DETECTOR_LIST.map((detector) => [detector.name, detector]));

/** Each detector's position in `DETECTOR_LIST`, by name. */
export const DETECTOR_INDEX: ReadonlyMap<string, number> = new Map(DETECTOR_LIST.map((detector, index) => [detector.name, index]));
