import type { Detector } from './detector.js';
import { sqlInjection } from './sqli.js';
import { crossSiteScripting } from './xss.js';
import { pathTraversal } from './traversal.js';
import { sensitiveFile } from './sensitive.js';
import { scannerAgent } from './scanner.js';
import { commandInjection } from './cmdi.js';

export type { Detector };

/** The detectors rules can call with `detector: <name>`. */
export const DETECTORS: ReadonlyMap<string, Detector> = new Map(
  [sqlInjection, crossSiteScripting, pathTraversal, sensitiveFile, scannerAgent, commandInjection].map((detector) => [detector.name, detector]),
);
