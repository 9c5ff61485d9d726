/**
 * Guards of a run's output folder, so nothing an earlier run wrote is lost: a non-empty folder is
 * refused unless the user resumes or asks to overwrite, a path that is a file gets a plain error
 * (not ENOTDIR), and a resume with other options names each option that differs.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** What the folder holds: null when it does not exist yet. Throws when `out` or a parent is a file. */
export async function outDirEntries(out: string, flag = '--out'): Promise<string[] | null> {
  try {
    const s = await stat(out);
    if (!s.isDirectory()) throw new Error(`${flag} ${out} is a file, not a directory; give the path of a directory to write the run into`);
    return await readdir(out);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ENOTDIR') throw new Error(`${flag} ${out}: a parent of this path is a file, not a directory; choose another ${flag}`, { cause: err });
    throw err;
  }
}

/**
 * Refuses to start a fresh run in a non-empty folder unless `overwrite`; with `overwrite`, removes
 * the files a run writes (`runFiles`), and nothing else, so no stale state or result survives.
 */
export async function claimOutDir(out: string, o: { resume: boolean; overwrite: boolean; runFiles: readonly string[] }): Promise<void> {
  const entries = await outDirEntries(out);
  if (o.resume) return; // the resume path checks the saved state itself
  if (entries === null || entries.length === 0) return;
  if (!o.overwrite) {
    const shown = entries.slice(0, 6).join(', ') + (entries.length > 6 ? `, ... (${entries.length} entries)` : '');
    throw new Error(
      `--out ${out} is not empty (${shown}); an earlier run's files would be lost. ` +
        'Pass --resume to continue that run, --overwrite to replace it, or choose another --out',
    );
  }
  for (const f of o.runFiles) await rm(join(out, f), { recursive: true, force: true });
}

/** Each leaf that differs between two JSON values, as `path: old -> new`. */
export function jsonDiff(saved: unknown, now: unknown, path = ''): string[] {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObj(saved) && isObj(now)) {
    const keys = [...new Set([...Object.keys(saved), ...Object.keys(now)])];
    return keys.flatMap((k) => jsonDiff(saved[k], now[k], path ? `${path}.${k}` : k));
  }
  const a = JSON.stringify(saved);
  const b = JSON.stringify(now);
  return a === b ? [] : [`${path || '(run)'}: ${a ?? 'unset'} -> ${b ?? 'unset'}`];
}
