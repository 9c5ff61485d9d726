/**
 * A checkpoint folder the user drops on the page or picks with a folder input: its files by path
 * below the folder (`config.json`, not `my-model/config.json`), and which required ones are missing.
 */
export interface DroppedFolder {
  label: string;
  files: Record<string, File>;
}

const TOKENIZER_LAYOUTS = [['tokenizer.json'], ['vocab.json', 'merges.txt'], ['encoder.json', 'vocab.bpe']];

/** What the folder lacks for the page to load it (empty when it can be loaded). */
export function missingCheckpointFiles(folder: DroppedFolder): string[] {
  const names = new Set(Object.keys(folder.files).map((p) => p.slice(p.lastIndexOf('/') + 1)));
  const missing: string[] = [];
  if (!names.has('config.json')) missing.push('no config.json');
  if (!names.has('model.safetensors')) {
    missing.push(names.has('pytorch_model.bin') ? 'pytorch_model.bin only: convert it to model.safetensors (safetensors.torch.save_file)' : 'no model.safetensors');
  }
  if (!TOKENIZER_LAYOUTS.some((l) => l.every((n) => names.has(n)))) missing.push('no tokenizer (tokenizer.json, or vocab.json + merges.txt)');
  return missing;
}

/** The files keyed without the directory all their paths share. */
function relativeToFolder(files: Record<string, File>): Record<string, File> {
  const paths = Object.keys(files);
  let dirs = paths.length ? paths[0].split('/').slice(0, -1) : [];
  for (const p of paths) {
    const parts = p.split('/').slice(0, -1);
    let n = 0;
    while (n < dirs.length && n < parts.length && dirs[n] === parts[n]) n++;
    dirs = dirs.slice(0, n);
  }
  const cut = dirs.length ? dirs.join('/').length + 1 : 0;
  return Object.fromEntries(paths.map((p) => [p.slice(cut), files[p]]));
}

/** From `<input type=file webkitdirectory>`: paths relative to the chosen folder. */
export function fromFolderInput(list: FileList): DroppedFolder {
  const files: Record<string, File> = {};
  for (const f of Array.from(list)) files[f.webkitRelativePath || f.name] = f;
  const first = Object.keys(files)[0] ?? '';
  return { label: first.includes('/') ? first.slice(0, first.indexOf('/')) : 'the chosen files', files: relativeToFolder(files) };
}

/** From a drop: folders are walked (FileSystemEntry), loose files taken as they are. */
export async function collectDropped(data: DataTransfer): Promise<DroppedFolder> {
  const files: Record<string, File> = {};
  const entries = Array.from(data.items).map((i) => i.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => !!e);
  const walk = async (entry: FileSystemEntry, path: string): Promise<void> => {
    if (entry.isFile) {
      files[path] = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
      return;
    }
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    for (;;) {
      const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
      if (!batch.length) break;
      for (const child of batch) await walk(child, `${path}/${child.name}`);
    }
  };
  if (entries.length) for (const e of entries) await walk(e, e.name);
  else for (const f of Array.from(data.files)) files[f.name] = f;
  const label = entries.length === 1 && entries[0].isDirectory ? entries[0].name : 'the dropped files';
  return { label, files: relativeToFolder(files) };
}
