/**
 * English function words for METEOR's delta weighting (content words weigh delta, function words
 * 1 - delta). METEOR 1.5 reads its own frequency-derived list from a resource file that is not
 * available here; this hand-written list (articles, pronouns, prepositions, conjunctions, auxiliary
 * and modal verbs, and other closed-class words, in lowercase) stands in for it, so METEOR scores
 * differ slightly from the Java scorer's where the lists disagree.
 */
export const ENGLISH_FUNCTION_WORDS: ReadonlySet<string> = new Set(
  (
    'a an the this that these those some any no every each either neither all both half several ' +
    'i me my mine myself you your yours yourself yourselves he him his himself she her hers herself it its itself ' +
    'we us our ours ourselves they them their theirs themselves who whom whose which what whatever whoever ' +
    'about above across after against along among around as at before behind below beneath beside besides between ' +
    'beyond but by despite down during except for from in inside into like near of off on onto out outside over ' +
    'past per since than through throughout till to toward towards under underneath unlike until up upon via with within without ' +
    'and or nor so yet if because although though while whereas whether unless once when where why how then there here ' +
    'am is are was were be been being have has had having do does did doing done ' +
    'will would shall should can could may might must ought ' +
    "'s 's n't not 're 've 'll 'd 'm " +
    'also just only very too quite rather such more most much many few less least own same other another else ' +
    'again ever never always often still even already'
  ).split(/\s+/),
);
