import { describe, expect, it } from 'vitest';
import { allSources, type CaseResult } from './corpus.js';

/**
 * Cases where Watchpost reads the message differently from the source test suite, with the
 * reason. Each entry must still disagree, so the list cannot go stale.
 */
const EXCEPTIONS: Record<string, string> = {
  'syslog-ng test_expected_sd_pairs_long #51': 'RFC 5424 section 6.3.3 puts no length limit on a PARAM-VALUE; syslog-ng cuts this 256-character value to 255',
  'syslog-ng test_ip_in_host #65': 'RFC 3164 section 4.1.2 puts the HOSTNAME right after the TIMESTAMP, so a lone word there is the HOSTNAME, as rsyslog reads "<14>Aug 30 23:00:05 X4711"; syslog-ng reads it as the program',
  'rsyslog parsertest-parse1.sh #29': 'RFC 1123 section 2.1 makes the last label of a host name alphabetic, so the all-digit "2009" after the time is the year (syslog-ng reads "Apr 15 21:28:13 2007 linksys" so), not the HOSTNAME that rsyslog takes it for',
  'rsyslog pmsnare-default.sh #98': 'RFC 3164 section 4.1.3 ends the TAG at the first character that is not alphanumeric, here a tab; rsyslog escapes the tab to "#011" before parsing (EscapeControlCharactersOnReceive is on by default), so its TAG runs on to the next space',
};

const sources = Object.entries(allSources()).map(([name, run]) => [name, run()] as [string, CaseResult[]]);
const all = sources.flatMap(([, results]) => results);

describe('syslog corpus', () => {
  for (const [name, results] of sources) {
    describe(name, () => {
      it.each(results.map((result) => [result.id, result] as const))('%s', (_id, result) => {
        const reason = EXCEPTIONS[result.id];
        if (reason) expect(result.mismatches, `listed as an exception (${reason}) but agrees now; remove it from the list`).not.toEqual([]);
        else expect(result.mismatches, `input ${JSON.stringify(result.input)}`).toEqual([]);
      });
    });
  }

  it('lists only cases that exist', () => {
    const ids = new Set(all.map((result) => result.id));
    expect(Object.keys(EXCEPTIONS).filter((id) => !ids.has(id))).toEqual([]);
  });

  it('agrees on at least 99% of cases', () => {
    const agreeing = all.filter((result) => result.mismatches.length === 0).length;
    expect(all.length).toBeGreaterThan(450);
    expect(agreeing / all.length).toBeGreaterThanOrEqual(0.99);
  });
});
