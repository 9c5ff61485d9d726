/** The English Snowball (Porter2) stemmer against word/stem pairs worked by hand from the algorithm's description. */
import { describe, expect, it } from 'vitest';
import { stemEnglish } from '../src/nlg/metrics/porter2.js';

const PAIRS = `consign consign consigned consign consigning consign consignment consign consist consist consisted consist
consistency consist consistent consist consistently consist consisting consist consists consist consolation consol
consolations consol consolatory consolatori console consol consoled consol consoles consol consolidate consolid
consolidated consolid consolidating consolid consoling consol consolingly consol consols consol consonant conson
consort consort consorted consort consorting consort conspicuous conspicu conspicuously conspicu conspiracy conspiraci
conspirator conspir conspirators conspir conspire conspir conspired conspir conspiring conspir constable constabl
constables constabl constance constanc constancy constanc constant constant knack knack knackeries knackeri knacks knack
knave knave knaves knave knavish knavish kneaded knead kneading knead knee knee kneel kneel kneeled kneel kneeling kneel
knees knee knell knell knelt knelt knew knew knife knife knight knight knightly knight knights knight knit knit
knits knit knitted knit knitting knit knives knive knob knob knock knock knocked knock knocker knocker knocking knock
generously generous communication communic cried cri ties tie hopping hop hoped hope running run runs run rating rate
ratings rate restaurant restaur restaurants restaur families famili family famili friendly friend served serv
serves serv happiness happi happy happi located locat location locat cheaper cheaper sky sky skies sky dying die
news news`.split(/\s+/);

describe('stemEnglish (Snowball English / Porter2)', () => {
  it.each(Array.from({ length: PAIRS.length / 2 }, (_, k) => [PAIRS[2 * k]!, PAIRS[2 * k + 1]!]))('%s -> %s', (word, stem) => {
    expect(stemEnglish(word)).toBe(stem);
  });
  it('leaves words of one or two letters alone', () => {
    expect(stemEnglish('is')).toBe('is');
    expect(stemEnglish('a')).toBe('a');
  });
});
