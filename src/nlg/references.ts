/**
 * The plain-text layouts of the E2E challenge's scorer: references one per line with the groups of
 * one instance separated by a blank line, and system outputs one line per instance.
 */

/**
 * Reference groups from the official multi-reference text layout. Lines are trimmed; one or more
 * blank lines end a group; leading and trailing blank lines are ignored. A file without any blank
 * line separating groups is read as one reference per instance (as the official scorer does).
 */
export function parseReferenceGroups(text: string): string[][] {
  const body = text.startsWith('\ufeff') ? text.slice(1) : text;
  const groups: string[][] = [[]];
  for (const raw of body.split('\n')) {
    const line = raw.trim();
    if (line === '') {
      if (groups[groups.length - 1]!.length > 0) groups.push([]);
    } else groups[groups.length - 1]!.push(line);
  }
  if (groups[groups.length - 1]!.length === 0) groups.pop();
  if (groups.length === 1) return groups[0]!.map((r) => [r]);
  return groups;
}

/**
 * System outputs, one per line (trimmed). A final newline does not add an output; an empty line
 * inside the file is an empty output. Windows line endings are accepted.
 */
export function parseHypothesisLines(text: string): string[] {
  const body = text.startsWith('\ufeff') ? text.slice(1) : text;
  const lines = body.split('\n').map((l) => l.trim());
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}
