/**
 * Meaning representations (`name[The Eagle], eatType[coffee shop], priceRange[cheap]`) and the
 * prompt a language model is conditioned on.
 */

export interface MrSlot {
  attribute: string;
  value: string;
}

/** Splits an MR into its `attribute[value]` slots, in order; throws naming the offending text. */
export function parseMR(mr: string): MrSlot[] {
  const slots: MrSlot[] = [];
  let i = 0;
  const s = mr.trim();
  while (i < s.length) {
    const open = s.indexOf('[', i);
    const close = open < 0 ? -1 : s.indexOf(']', open + 1);
    if (open < 0 || close < 0) {
      throw new Error(`parseMR: expected attribute[value] at ${JSON.stringify(s.slice(i))} in ${JSON.stringify(mr)}; write slots as key[value], separated by commas`);
    }
    const attribute = s.slice(i, open).trim();
    if (attribute === '' || attribute.includes(',')) {
      throw new Error(`parseMR: missing attribute name before "[" at ${JSON.stringify(s.slice(i))} in ${JSON.stringify(mr)}; write slots as key[value]`);
    }
    slots.push({ attribute, value: s.slice(open + 1, close).trim() });
    i = close + 1;
    while (i < s.length && /\s/.test(s[i]!)) i++;
    if (i < s.length) {
      if (s[i] !== ',') throw new Error(`parseMR: expected "," after ${JSON.stringify(s.slice(0, i))} in ${JSON.stringify(mr)}; separate slots with commas`);
      i++;
      while (i < s.length && /\s/.test(s[i]!)) i++;
    }
  }
  if (slots.length === 0) throw new Error(`parseMR: ${JSON.stringify(mr)} has no attribute[value] slot`);
  return slots;
}

/** What separates the linearised MR from the text the model writes. */
export const E2E_PROMPT_SEPARATOR = ' ||';

/**
 * The linearised MR a model is conditioned on: slots as `attribute : value`, in the MR's order,
 * joined by ` | `, then ` ||` (the table-to-text layout of the prefix-tuning and LoRA E2E
 * experiments, with the dataset's attribute names kept as they are). The model continues with
 * a space and the text. Example:
 * `name[The Eagle], eatType[coffee shop]` -> `name : The Eagle | eatType : coffee shop ||`.
 */
export function e2ePrompt(mr: string): string {
  return parseMR(mr).map((s) => `${s.attribute} : ${s.value}`).join(' | ') + E2E_PROMPT_SEPARATOR;
}
